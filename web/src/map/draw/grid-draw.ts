/**
 * The drawing tool of the grid editor, the only module that imports terra-draw (../shared/STYLE.md).
 * Modes: draw a polygon (close the ring by clicking its first vertex), draw a line (to split a grid),
 * edit one polygon (drag vertices, insert midpoints, delete vertices, move the whole polygon). Every
 * mode snaps to the targets the editor supplies (neighbouring grids and the community boundary) within
 * a few pixels; the server's snap and clip stay the final word. `add`/`remove` are symmetric.
 */
import type { LineString, Polygon } from 'geojson';
import type { Map as MapLibreMap } from 'maplibre-gl';
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawSelectMode, type SnapToCustom } from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';
import { snapPosition, type SnapTargets } from './snap';

export const SNAP_TOLERANCE_PX = 10;

export interface GridDrawHandlers {
  /** What to snap to now (called on pointer moves; keep it cheap). */
  snapTargets(): SnapTargets;
  /** A polygon was closed. */
  onPolygon(polygon: Polygon): void;
  /** A line was finished (double-click or clicking its last point again). */
  onLine(line: LineString): void;
  /** The polygon being edited changed (vertex drag, insert, delete, move). */
  onEdit(polygon: Polygon): void;
}

export type DrawMode = 'idle' | 'polygon' | 'line' | 'edit';

export class GridDraw {
  private draw: TerraDraw | undefined;
  private editingId: string | number | undefined;
  private mode: DrawMode = 'idle';

  add(map: MapLibreMap, handlers: GridDrawHandlers): void {
    const toCustom: SnapToCustom = (event) => {
      const p = snapPosition({ x: event.containerX, y: event.containerY }, handlers.snapTargets(), (lng, lat) => map.project([lng, lat]), SNAP_TOLERANCE_PX);
      return p ? [p[0]!, p[1]!] : undefined;
    };
    const snapping = { toCustom, toCoordinate: true };
    this.draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map, prefixId: 'wangge-draw' }),
      modes: [
        new TerraDrawPolygonMode({ snapping, styles: { fillColor: '#d35400', fillOpacity: 0.25, outlineColor: '#d35400', outlineWidth: 2, closingPointColor: '#ffffff', closingPointOutlineColor: '#d35400', closingPointWidth: 6 } }),
        new TerraDrawLineStringMode({ snapping, styles: { lineStringColor: '#8e44ad', lineStringWidth: 3 } }),
        new TerraDrawSelectMode({
          flags: { polygon: { feature: { draggable: true, coordinates: { draggable: true, midpoints: true, deletable: true, snappable: snapping } } } },
          styles: { selectedPolygonColor: '#d35400', selectedPolygonFillOpacity: 0.25, selectedPolygonOutlineColor: '#d35400', selectedPolygonOutlineWidth: 2 },
          allowManualDeselection: false,
        }),
      ],
    });
    this.draw.start();
    this.draw.on('finish', (id, context) => {
      const feature = this.draw?.getSnapshotFeature(id);
      if (!feature) return;
      if (context.mode === 'polygon' && feature.geometry.type === 'Polygon') {
        // The drawn polygon stays for editing until the planner saves or discards it.
        this.editingId = id;
        this.setMode('edit');
        this.draw?.selectFeature(id);
        handlers.onPolygon(feature.geometry);
      } else if (context.mode === 'linestring' && feature.geometry.type === 'LineString') {
        // A line is used once (to split), then the tool is idle again.
        this.reset();
        handlers.onLine(feature.geometry);
      } else if (context.mode === 'select' && id === this.editingId && feature.geometry.type === 'Polygon') {
        handlers.onEdit(feature.geometry);
      }
    });
  }

  /** Detaches terra-draw: its sources, layers and handlers. */
  remove(): void {
    this.draw?.stop();
    this.draw = undefined;
    this.editingId = undefined;
    this.mode = 'idle';
  }

  get current(): DrawMode {
    return this.mode;
  }

  /** Starts drawing a new polygon; anything being edited is dropped. */
  drawPolygon(): void {
    this.reset();
    this.setMode('polygon');
  }

  /** Starts drawing a line (a split line). */
  drawLine(): void {
    this.reset();
    this.setMode('line');
  }

  /** Loads one polygon for editing (vertices, midpoints, moving). */
  edit(polygon: Polygon): void {
    this.reset();
    const id = crypto.randomUUID();
    this.draw?.addFeatures([{ type: 'Feature', id, geometry: polygon, properties: { mode: 'polygon' } }]);
    this.editingId = id;
    this.setMode('edit');
    this.draw?.selectFeature(id);
  }

  /** The polygon being edited, as it is now. */
  edited(): Polygon | undefined {
    if (this.editingId === undefined) return undefined;
    const f = this.draw?.getSnapshotFeature(this.editingId);
    return f?.geometry.type === 'Polygon' ? f.geometry : undefined;
  }

  /** Back to idle: nothing drawn, nothing edited. */
  reset(): void {
    this.setMode('idle');
    this.draw?.clear();
    this.editingId = undefined;
  }

  private setMode(mode: DrawMode): void {
    this.mode = mode;
    if (!this.draw) return;
    // terra-draw's built-in static mode ignores the pointer, which lets map clicks select grids.
    this.draw.setMode(mode === 'polygon' ? 'polygon' : mode === 'line' ? 'linestring' : mode === 'edit' ? 'select' : 'static');
  }
}
