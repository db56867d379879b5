/**
 * The contract every top-level view (grid editor, dispatch console, analysis map) implements.
 *
 * The shell (main.ts) owns the one MapLibre map, the side panel, sign-in and the URL. A view is mounted
 * into the panel's view area with the shared map, adds its own sources/layers/handlers, and returns an
 * `unmount` that removes exactly what it added (add/remove symmetry, ../shared/STYLE.md), so switching
 * views leaves the map as the shell found it.
 *
 * The shell also unmounts and mounts the view again on a language switch (its state is in the URL), so
 * a view renders its texts with `t()` at mount and needs no locale listener of its own. Registry:
 * views/index.ts (roles there must match `roles` here; view code is loaded on demand).
 */
import type { Map as MapLibreMap } from 'maplibre-gl';
import type { Me } from '@contracts/auth';

export type ViewId = 'editor' | 'dispatch' | 'analysis' | 'mygrids' | 'audit';

/** URL query state shared by views: `?view=editor&community=…&grid=…&lang=en&…`. */
export interface UrlState {
  get(key: string): string | null;
  /** Replace (not push) the given keys; `null` deletes a key. Keeps the other keys. */
  set(values: Record<string, string | null>): void;
}

export interface ViewContext {
  map: MapLibreMap;
  /** The panel area the view owns while mounted (emptied by the shell on unmount). */
  panel: HTMLElement;
  url: UrlState;
  /** The signed-in user (roles decide which views and buttons are offered). */
  me: Me;
  /** Bearer token for API calls made by the view (also set on `api/client.ts`). */
  token: string;
}

export interface View {
  id: ViewId;
  /** Roles that see this view in the menu; admin sees all. */
  roles: readonly string[];
  mount(ctx: ViewContext): () => void;
}
