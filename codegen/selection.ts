// Reads the project's own selection (openapi/supported.yaml) and the Table columns
// (openapi/tables.yaml, optional) and checks their shape, so a typo fails the build with the
// file and key named instead of producing a silently smaller API.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ColumnInfo } from '../src/machinery/types.ts';
import { CodegenError } from './upstream.ts';

export interface ResourceSelection {
  group: string;
  version: string;
  plural: string;
  subresources: string[];
  shortNames: string[];
  categories: string[];
  singular?: string;
  selectableFields: string[];
  inert: boolean;
  createOnly: boolean;
}

export interface GroupVersionSelection {
  group: string;
  version: string;
  resources: ResourceSelection[];
}

const RESOURCE_KEYS = new Set([
  'subresources', 'shortNames', 'categories', 'singular', 'selectableFields', 'inert', 'createOnly',
]);

function stringList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !s)) {
    throw new CodegenError(`${where}: expected a list of strings`);
  }
  return v as string[];
}

export function parseSelection(text: string, file = 'openapi/supported.yaml'): GroupVersionSelection[] {
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CodegenError(`${file}: expected a map of group-version -> resources`);
  }
  const out: GroupVersionSelection[] = [];
  for (const [gv, resources] of Object.entries(doc)) {
    const parts = gv.split('/');
    if (parts.length > 2 || parts.some((p) => !p)) throw new CodegenError(`${file}: bad group-version "${gv}"`);
    const [group, version] = parts.length === 2 ? parts : ['', parts[0]];
    if (!resources || typeof resources !== 'object' || Array.isArray(resources)) {
      throw new CodegenError(`${file}: ${gv}: expected a map of plural -> options`);
    }
    const list: ResourceSelection[] = [];
    for (const [plural, raw] of Object.entries(resources as Record<string, unknown>)) {
      const where = `${file}: ${gv} ${plural}`;
      const o = (raw ?? {}) as Record<string, unknown>;
      if (typeof o !== 'object' || Array.isArray(o)) throw new CodegenError(`${where}: expected a map`);
      for (const k of Object.keys(o)) {
        if (!RESOURCE_KEYS.has(k)) throw new CodegenError(`${where}: unknown key "${k}"`);
      }
      if (o.singular !== undefined && typeof o.singular !== 'string') throw new CodegenError(`${where}: singular must be a string`);
      for (const k of ['inert', 'createOnly']) {
        if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new CodegenError(`${where}: ${k} must be true or false`);
      }
      list.push({
        group, version, plural,
        subresources: stringList(o.subresources, `${where}.subresources`),
        shortNames: stringList(o.shortNames, `${where}.shortNames`),
        categories: stringList(o.categories, `${where}.categories`),
        singular: o.singular as string | undefined,
        selectableFields: stringList(o.selectableFields, `${where}.selectableFields`),
        inert: o.inert === true,
        createOnly: o.createOnly === true,
      });
    }
    out.push({ group, version, resources: list });
  }
  return out;
}

export function loadSelection(path: string): GroupVersionSelection[] {
  return parseSelection(readFileSync(path, 'utf8'), path);
}

/** `<plural>` (core) or `<plural>.<group>` -> columns; an absent file means defaults everywhere. */
export function loadTables(path: string): Record<string, ColumnInfo[]> {
  if (!existsSync(path)) return {};
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  if (!doc) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CodegenError(`${path}: expected a map of resource -> columns`);
  const out: Record<string, ColumnInfo[]> = {};
  for (const [key, cols] of Object.entries(doc)) {
    if (!Array.isArray(cols)) throw new CodegenError(`${path}: ${key}: expected a list of columns`);
    out[key] = cols.map((c, i) => {
      const where = `${path}: ${key}[${i}]`;
      if (!c || typeof c !== 'object') throw new CodegenError(`${where}: expected a map`);
      for (const k of ['name', 'type', 'path']) {
        if (typeof c[k] !== 'string') throw new CodegenError(`${where}: "${k}" must be a string`);
      }
      const col: ColumnInfo = { name: c.name, type: c.type } as ColumnInfo;
      if (c.format !== undefined) col.format = String(c.format);
      if (c.description !== undefined) col.description = String(c.description);
      if (c.priority !== undefined) col.priority = Number(c.priority);
      col.path = c.path;
      return col;
    });
  }
  return out;
}
