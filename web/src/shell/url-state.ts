/**
 * The URL is the app's shareable state: `?view=editor&community=…&grid=…&lang=en&at=lng,lat,zoom&…`.
 * Keys are replaced in place (history.replaceState), so moving the map does not fill the back button.
 */
import type { UrlState } from '../views/view';

export class LocationUrlState implements UrlState {
  get(key: string): string | null {
    return new URLSearchParams(location.search).get(key);
  }

  set(values: Record<string, string | null>): void {
    const params = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(values)) {
      if (value === null || value === '') params.delete(key);
      else params.set(key, value);
    }
    const query = params.toString();
    const next = `${location.pathname}${query ? `?${query.replace(/%2C/g, ',')}` : ''}${location.hash}`;
    if (next !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', next);
  }
}

/** Map position in the URL: `at=lng,lat,zoom` with enough digits for a building. */
export function formatMapPosition(lng: number, lat: number, zoom: number): string {
  return `${lng.toFixed(5)},${lat.toFixed(5)},${zoom.toFixed(2)}`;
}

export function parseMapPosition(value: string | null): { center: [number, number]; zoom: number } | undefined {
  if (!value) return undefined;
  const [lng, lat, zoom] = value.split(',').map(Number);
  if (lng === undefined || lat === undefined || zoom === undefined) return undefined;
  if (![lng, lat, zoom].every(Number.isFinite) || Math.abs(lng) > 180 || Math.abs(lat) > 85 || zoom < 0 || zoom > 24) return undefined;
  return { center: [lng, lat], zoom };
}
