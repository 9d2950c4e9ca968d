// /openapi/v2 in protobuf: the trimmed Swagger document as gnostic's openapi.v2.Document, which
// is what kubectl (and kube-openapi's proto reader) ask for. Maps become lists of named pairs,
// and anything free-form (vendor extensions, defaults, enums, examples) travels as YAML text.
import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import type { Swagger } from './upstream.ts';

export function gnosticProtoPath(protoDir: string): string {
  return `${protoDir}/github.com/google/gnostic-models/openapiv2/OpenAPIv2.proto`;
}

export function loadDocumentType(protoPath: string): protobuf.Type {
  const root = new protobuf.Root().loadSync(protoPath, { keepCase: true });
  return root.lookupType('openapi.v2.Document');
}

const any = (v: unknown) => ({ yaml: stringify(v) });

function ext(o: Record<string, unknown>) {
  return Object.entries(o).filter(([k]) => k.startsWith('x-')).map(([name, v]) => ({ name, value: any(v) }));
}

// JSON Schema keywords shared by Schema, PrimitivesItems and the parameter sub-schemas.
const SCALARS: Record<string, string> = {
  format: 'format', title: 'title', description: 'description', multipleOf: 'multiple_of',
  maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum',
  exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length', minLength: 'min_length',
  pattern: 'pattern', maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items',
  maxProperties: 'max_properties', minProperties: 'min_properties', required: 'required',
  discriminator: 'discriminator', readOnly: 'read_only', collectionFormat: 'collection_format',
  name: 'name', in: 'in', allowEmptyValue: 'allow_empty_value',
};

function common(s: any, out: any): any {
  for (const [k, f] of Object.entries(SCALARS)) if (s[k] !== undefined) out[f] = s[k];
  if (s.default !== undefined) out.default = any(s.default);
  if (s.example !== undefined) out.example = any(s.example);
  if (s.enum !== undefined) out.enum = s.enum.map(any);
  const x = ext(s);
  if (x.length) out.vendor_extension = x;
  return out;
}

function schema(s: any): any {
  const out: any = {};
  if (s.$ref !== undefined) out._ref = s.$ref;
  common(s, out);
  if (s.type !== undefined) out.type = { value: Array.isArray(s.type) ? s.type : [s.type] };
  if (s.items !== undefined) out.items = { schema: (Array.isArray(s.items) ? s.items : [s.items]).map(schema) };
  if (s.allOf !== undefined) out.all_of = s.allOf.map(schema);
  if (s.properties !== undefined) {
    out.properties = { additional_properties: Object.entries(s.properties).map(([name, v]) => ({ name, value: schema(v) })) };
  }
  if (typeof s.additionalProperties === 'boolean') out.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties) out.additional_properties = { schema: schema(s.additionalProperties) };
  return out;
}

function primitives(s: any): any {
  const out = common(s, {});
  if (s.type !== undefined) out.type = s.type;
  if (s.items !== undefined) out.items = primitives(s.items);
  return out;
}

const SUB_SCHEMA: Record<string, string> = {
  query: 'query_parameter_sub_schema', path: 'path_parameter_sub_schema',
  header: 'header_parameter_sub_schema', formData: 'form_data_parameter_sub_schema',
};

function parameter(p: any): any {
  if (p.in === 'body') {
    const b: any = { name: p.name, in: p.in };
    if (p.description !== undefined) b.description = p.description;
    if (p.required !== undefined) b.required = p.required;
    if (p.schema) b.schema = schema(p.schema);
    const x = ext(p);
    if (x.length) b.vendor_extension = x;
    return { body_parameter: b };
  }
  return { non_body_parameter: { [SUB_SCHEMA[p.in]]: primitives(p) } };
}

const parametersItem = (p: any) => (p.$ref ? { json_reference: { _ref: p.$ref } } : { parameter: parameter(p) });

function operation(op: any): any {
  const out: any = {};
  for (const [k, f] of [['tags', 'tags'], ['summary', 'summary'], ['description', 'description'],
    ['operationId', 'operation_id'], ['produces', 'produces'], ['consumes', 'consumes'],
    ['schemes', 'schemes'], ['deprecated', 'deprecated']]) {
    if (op[k] !== undefined) out[f] = op[k];
  }
  if (op.parameters) out.parameters = op.parameters.map(parametersItem);
  out.responses = {
    response_code: Object.entries<any>(op.responses ?? {}).map(([name, r]) => ({
      name,
      value: r.$ref ? { json_reference: { _ref: r.$ref } } : {
        response: {
          description: r.description ?? '',
          ...(r.schema ? { schema: { schema: schema(r.schema) } } : {}),
          ...(ext(r).length ? { vendor_extension: ext(r) } : {}),
        },
      },
    })),
  };
  const x = ext(op);
  if (x.length) out.vendor_extension = x;
  return out;
}

function pathItem(item: any): any {
  const out: any = {};
  for (const m of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch']) {
    if (item[m]) out[m] = operation(item[m]);
  }
  if (item.parameters) out.parameters = item.parameters.map(parametersItem);
  const x = ext(item);
  if (x.length) out.vendor_extension = x;
  return out;
}

function securityDefinition(d: any): any {
  const kind = d.type === 'apiKey' ? 'api_key_security' : d.type === 'basic' ? 'basic_authentication_security'
    : `oauth2_${d.flow === 'accessCode' ? 'access_code' : d.flow}_security`;
  const out: any = { type: d.type };
  for (const k of ['name', 'in', 'flow', 'description']) if (d[k] !== undefined) out[k] = d[k];
  if (d.scopes) out.scopes = { additional_properties: Object.entries(d.scopes).map(([name, value]) => ({ name, value })) };
  const x = ext(d);
  if (x.length) out.vendor_extension = x;
  return { [kind]: out };
}

export function toGnostic(doc: Swagger): any {
  const info: any = { ...doc.info };
  const infoExt = ext(info);
  for (const k of Object.keys(info)) if (k.startsWith('x-')) delete info[k];
  if (infoExt.length) info.vendor_extension = infoExt;
  const out: any = {
    swagger: doc.swagger,
    info,
    paths: { path: Object.entries(doc.paths).map(([name, item]) => ({ name, value: pathItem(item) })) },
    definitions: { additional_properties: Object.entries(doc.definitions).map(([name, s]) => ({ name, value: schema(s) })) },
    parameters: { additional_properties: Object.entries(doc.parameters ?? {}).map(([name, p]) => ({ name, value: parameter(p) })) },
  };
  if (doc.security) {
    out.security = doc.security.map((req: any) => ({
      additional_properties: Object.entries(req).map(([name, value]) => ({ name, value: { value } })),
    }));
  }
  if (doc.securityDefinitions) {
    out.security_definitions = {
      additional_properties: Object.entries(doc.securityDefinitions).map(([name, d]) => ({ name, value: securityDefinition(d) })),
    };
  }
  return out;
}

export function encodeOpenAPIv2(doc: Swagger, protoPath: string): Buffer {
  const Document = loadDocumentType(protoPath);
  const message = Document.fromObject(toGnostic(doc));
  return Buffer.from(Document.encode(message).finish());
}
