/**
 * Minimal types for geojson-validation 1.0.2 (CommonJS, ships no types). Only the functions `geo/` calls
 * are declared. With `trace = true` each check returns the list of spec violations (empty = valid);
 * without it, a boolean. `define()` is deliberately left out: it mutates module-global state shared by
 * every caller in the process.
 */
declare module 'geojson-validation' {
  type Check = {
    (value: unknown, trace: true): string[];
    (value: unknown, trace?: false): boolean;
  };
  export const valid: Check;
  export const isGeoJSONObject: Check;
  export const isGeometryObject: Check;
  export const isFeature: Check;
  export const isPolygon: Check;
  export const isMultiPolygon: Check;
  const gjv: {
    valid: Check;
    isGeoJSONObject: Check;
    isGeometryObject: Check;
    isFeature: Check;
    isPolygon: Check;
    isMultiPolygon: Check;
  };
  export default gjv;
}
