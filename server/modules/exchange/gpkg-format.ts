/**
 * GeoPackage (OGC 12-128r18, version 1.3) written and read with sql.js, SQLite compiled to
 * WebAssembly. Why sql.js: the GeoPackage feature schema is a handful of tables (spatial_ref_sys,
 * contents, geometry_columns, data_columns) plus a blob header, small enough to write here;
 * @ngageoint/geopackage brings a large dependency tree (proj4, image and tile code) for features we do
 * not use, and better-sqlite3 is a native addon that must be compiled on every machine and CI (and its
 * v13 crashes on Node 20). sql.js ships its WASM in the npm package, so it installs anywhere, and it
 * opens the upload as an in-memory database: no temporary files, nothing on disk to clean up.
 *
 * Hostile files: the bytes are opened in memory only, the layer must be a real table named by
 * gpkg_contents (not a view, whose SQL could be made to run for ever, nor a virtual table), rows are
 * counted before they are read, and geometry blobs are decoded with bounds checks (exchange-wkb.ts).
 */
import initSqlJs, { type Database as SqlDatabase, type SqlJsStatic, type SqlValue } from 'sql.js';
import type { ExchangeCrs } from '../../contracts/exchange';
import { canonicalCrs, FILE_CRS, recogniseDeclaredCrs, toFileCrs } from './exchange-crs';
import { asCorrupt, fileRejected } from './exchange-error';
import { columnNames, encodeValue } from './exchange-fields';
import { checkedGeometry, layerGeometryType, promote, VertexBudget } from './exchange-geometry';
import type { ExchangeFeature, ExchangeLayer, FieldSpec, FieldType, RawRead, ReadLimits, WriteOptions } from './exchange-types';
import { geometryToGpkgBlob, gpkgBlobToGeometry } from './exchange-wkb';

let sqlJs: Promise<SqlJsStatic> | undefined;
const sqlite = (): Promise<SqlJsStatic> => (sqlJs ??= initSqlJs());

const SQLITE_MAGIC = 'SQLite format 3\0';
/** 'GPKG' as the SQLite application_id (GeoPackage 1.2+). */
const GPKG_APPLICATION_ID = 0x47504b47;
const GPKG_USER_VERSION = 10300;

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

const SQL_TYPES: Record<FieldType, string> = { integer: 'INTEGER', real: 'REAL', boolean: 'BOOLEAN', text: 'TEXT', json: 'TEXT' };
const GPKG_GEOMETRY_NAMES: Record<string, string> = {
  Point: 'POINT',
  LineString: 'LINESTRING',
  Polygon: 'POLYGON',
  MultiPoint: 'MULTIPOINT',
  MultiLineString: 'MULTILINESTRING',
  MultiPolygon: 'MULTIPOLYGON',
};

const SCHEMA = `
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
  mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,
  max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
INSERT INTO gpkg_extensions VALUES
  ('gpkg_data_columns', NULL, 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write'),
  ('gpkg_data_column_constraints', NULL, 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write');
`;

export async function writeGpkg(layer: ExchangeLayer, fields: readonly FieldSpec[], opts: WriteOptions): Promise<Uint8Array> {
  const SQL = await sqlite();
  const db = new SQL.Database();
  try {
    const crs = FILE_CRS[canonicalCrs(opts.crs)];
    const geometries = layer.features.map((f) => (f.geometry ? toFileCrs(f.geometry, opts.crs) : null));
    const layerType = layerGeometryType(geometries);
    const names = columnNames(fields, ['fid', 'geom']);
    const table = layer.name;
    db.run(`PRAGMA application_id = ${GPKG_APPLICATION_ID}; PRAGMA user_version = ${GPKG_USER_VERSION};`);
    db.run(SCHEMA);
    db.run('INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)', [crs.name, crs.srsId, crs.organization, crs.srsId, crs.wkt, crs.description]);
    const columns = fields.map((f) => `${quote(names.get(f.name) ?? f.name)} ${SQL_TYPES[f.type]}`);
    db.run(`CREATE TABLE ${quote(table)} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom ${layerType ? GPKG_GEOMETRY_NAMES[layerType] : 'GEOMETRY'}${columns.map((c) => `, ${c}`).join('')})`);
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    const insert = db.prepare(`INSERT INTO ${quote(table)} (geom${fields.map((f) => `, ${quote(names.get(f.name) ?? f.name)}`).join('')}) VALUES (?${', ?'.repeat(fields.length)})`);
    db.run('BEGIN');
    layer.features.forEach((feature, i) => {
      const g = geometries[i] ?? null;
      let blob: Uint8Array | null = null;
      if (g) {
        blob = geometryToGpkgBlob(promote(g, layerType), crs.srsId);
        const env = new DataView(blob.buffer, blob.byteOffset + 8, 32);
        minX = Math.min(minX, env.getFloat64(0, true));
        maxX = Math.max(maxX, env.getFloat64(8, true));
        minY = Math.min(minY, env.getFloat64(16, true));
        maxY = Math.max(maxY, env.getFloat64(24, true));
      }
      const values = fields.map((f): SqlValue => {
        const v = encodeValue(feature.properties[f.name], f.type);
        if (v === null) return null;
        if (typeof v === 'boolean') return v ? 1 : 0;
        if (typeof v === 'object') return JSON.stringify(v);
        return v;
      });
      insert.run([blob, ...values]);
    });
    insert.free();
    const hasExtent = Number.isFinite(minX);
    db.run('INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      table, 'features', table, '', hasExtent ? minX : null, hasExtent ? minY : null, hasExtent ? maxX : null, hasExtent ? maxY : null, crs.srsId,
    ]);
    db.run('INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)', [table, 'geom', layerType ? (GPKG_GEOMETRY_NAMES[layerType] ?? 'GEOMETRY') : 'GEOMETRY', crs.srsId]);
    // JSON columns are TEXT with a mime type, as GDAL writes its JSON subtype (read back as objects).
    for (const f of fields.filter((x) => x.type === 'json')) {
      db.run('INSERT INTO gpkg_data_columns (table_name, column_name, mime_type) VALUES (?, ?, ?)', [table, names.get(f.name) ?? f.name, 'application/json']);
    }
    db.run('COMMIT');
    return db.export();
  } finally {
    db.close();
  }
}

function rows(db: SqlDatabase, sql: string, params: SqlValue[] = []): Array<Record<string, SqlValue>> {
  const stmt = db.prepare(sql, params);
  const out: Array<Record<string, SqlValue>> = [];
  try {
    while (stmt.step()) out.push(stmt.getAsObject());
  } finally {
    stmt.free();
  }
  return out;
}

function fieldType(declared: string): FieldType | null {
  const t = declared.toUpperCase();
  if (t === 'BOOLEAN') return 'boolean';
  if (/INT/.test(t)) return 'integer';
  if (/REAL|DOUBLE|FLOAT|NUMERIC/.test(t)) return 'real';
  if (/BLOB/.test(t)) return null;
  return 'text';
}

export async function readGpkg(bytes: Uint8Array, limits: ReadLimits, opts: { layer?: string }): Promise<RawRead> {
  if (bytes.length < 100 || new TextDecoder('latin1').decode(bytes.subarray(0, 16)) !== SQLITE_MAGIC) {
    throw fileRejected('FILE_CORRUPT', 'This is not a GeoPackage: it is not an SQLite database.');
  }
  const SQL = await sqlite();
  let db: SqlDatabase | undefined;
  try {
    db = new SQL.Database(bytes);
    const check = rows(db, 'PRAGMA quick_check(1)')[0];
    if (check && Object.values(check)[0] !== 'ok') throw fileRejected('FILE_CORRUPT', `The GeoPackage is damaged: ${String(Object.values(check)[0])}`);
    const master = new Map(rows(db, "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view')").map((r) => [String(r.name), { type: String(r.type), sql: String(r.sql ?? '') }]));
    const isTable = (name: string): boolean => master.get(name)?.type === 'table' && !/^\s*CREATE\s+VIRTUAL/i.test(master.get(name)?.sql ?? '');
    if (!['gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys'].every(isTable)) {
      throw fileRejected('NOT_A_GEOPACKAGE', 'This SQLite database is not a GeoPackage: it has no gpkg_contents, gpkg_geometry_columns and gpkg_spatial_ref_sys tables.');
    }
    const layers = rows(
      db,
      `SELECT c.table_name AS t, g.column_name AS col, g.srs_id AS srs, s.organization AS org, s.organization_coordsys_id AS code, s.srs_name AS name
       FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
       LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
       WHERE c.data_type = 'features' ORDER BY c.table_name LIMIT 1000`,
    );
    const layerNames = layers.map((l) => String(l.t));
    if (layers.length === 0) throw fileRejected('NOT_A_GEOPACKAGE', 'The GeoPackage has no feature layer.');
    const chosen = opts.layer === undefined ? (layers.length === 1 ? layers[0] : undefined) : layers.find((l) => l.t === opts.layer);
    if (!chosen) {
      throw fileRejected('LAYER_AMBIGUOUS', opts.layer === undefined ? `The GeoPackage has ${layers.length} feature layers; name one with ?layer=.` : `The GeoPackage has no feature layer "${opts.layer}".`, { in: 'querystring', field: 'layer', layers: layerNames });
    }
    const table = String(chosen.t);
    const geomColumn = String(chosen.col);
    if (!isTable(table)) throw fileRejected('NOT_A_GEOPACKAGE', `The layer "${table}" is not a plain table (views and virtual tables are not read).`, { layer: table });
    const srsId = Number(chosen.srs);
    const declaredCrs: ExchangeCrs | undefined =
      srsId === 0 || srsId === -1 || chosen.org === null ? undefined : recogniseDeclaredCrs({ organization: String(chosen.org), code: Number(chosen.code), name: String(chosen.name ?? '') });

    const count = Number(rows(db, `SELECT count(*) AS n FROM ${quote(table)}`)[0]?.n ?? 0);
    if (count > limits.maxFeatures) throw fileRejected('TOO_MANY_FEATURES', `The layer has ${count} features; the limit is ${limits.maxFeatures}.`, { features: count, limit: limits.maxFeatures });

    const info = rows(db, `PRAGMA table_info(${quote(table)})`);
    const pk = info.find((c) => Number(c.pk) === 1 && fieldType(String(c.type)) === 'integer');
    const jsonColumns = isTable('gpkg_data_columns')
      ? new Set(rows(db, "SELECT column_name AS c FROM gpkg_data_columns WHERE table_name = ? AND mime_type = 'application/json'", [table]).map((r) => String(r.c)))
      : new Set<string>();
    const fields: FieldSpec[] = [];
    for (const c of info) {
      const name = String(c.name);
      if (name === geomColumn || c === pk) continue;
      const type = jsonColumns.has(name) ? 'json' : fieldType(String(c.type));
      if (type) fields.push({ name, type });
    }
    if (fields.length > limits.maxFields) throw fileRejected('TOO_MANY_FIELDS', `The layer has ${fields.length} columns; the limit is ${limits.maxFields}.`, { limit: limits.maxFields });

    const budget = new VertexBudget(limits.maxVerticesPerFeature, limits.maxVertices);
    const features: ExchangeFeature[] = [];
    const select = db.prepare(`SELECT ${[geomColumn, ...fields.map((f) => f.name)].map(quote).join(', ')} FROM ${quote(table)}${pk ? ` ORDER BY ${quote(String(pk.name))}` : ''}`);
    try {
      while (select.step()) {
        const index = features.length;
        if (index >= limits.maxFeatures) throw fileRejected('TOO_MANY_FEATURES', `The layer has more than ${limits.maxFeatures} features.`, { limit: limits.maxFeatures });
        const [blob, ...values] = select.get();
        if (blob !== null && blob !== undefined && !(blob instanceof Uint8Array)) throw fileRejected('FILE_CORRUPT', `Feature ${index}: the geometry is not a blob.`, { featureIndex: index });
        const { geometry, vertices } = checkedGeometry(blob ? gpkgBlobToGeometry(blob, index) : null, index);
        budget.take(vertices, index);
        const properties: Record<string, unknown> = {};
        fields.forEach((f, k) => {
          const v = values[k];
          if (v === null || v === undefined || v instanceof Uint8Array) return;
          if (f.type === 'boolean') properties[f.name] = v === 1 || v === '1' || v === 'true';
          else if (f.type === 'json' && typeof v === 'string') {
            try {
              properties[f.name] = JSON.parse(v) as unknown;
            } catch {
              properties[f.name] = v;
            }
          } else properties[f.name] = v;
        });
        features.push({ geometry, properties });
      }
    } finally {
      select.free();
    }
    return { name: table, geometryField: geomColumn, fields, features, ...(declaredCrs ? { declaredCrs } : {}) };
  } catch (err) {
    throw asCorrupt('GeoPackage', err);
  } finally {
    db?.close();
  }
}
