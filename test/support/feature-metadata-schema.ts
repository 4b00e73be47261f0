// The project's own check of devcontainer-feature.json against the properties documented by the dev
// container Feature metadata schema (devcontainers/spec, schemas/devContainerFeature.schema.json).
// Written from the schema's documentation, not copied from it: every top-level property with its type,
// the three shapes an option may take, mounts, and the lifecycle command forms.

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: Json): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Lifecycle commands: a shell string, an argv array, or an object of named string/argv commands run in parallel. */
function isLifecycleCommand(value: Json): boolean {
  if (typeof value === 'string' || isStringArray(value)) return true;
  return (
    isObject(value) && Object.values(value).every((command) => typeof command === 'string' || isStringArray(command))
  );
}

const propertyChecks: Record<string, [string, (value: Json) => boolean]> = {
  id: ['a string', (v) => typeof v === 'string'],
  version: ['a string', (v) => typeof v === 'string'],
  name: ['a string', (v) => typeof v === 'string'],
  description: ['a string', (v) => typeof v === 'string'],
  documentationURL: ['a string', (v) => typeof v === 'string'],
  licenseURL: ['a string', (v) => typeof v === 'string'],
  entrypoint: ['a string', (v) => typeof v === 'string'],
  init: ['a boolean', (v) => typeof v === 'boolean'],
  privileged: ['a boolean', (v) => typeof v === 'boolean'],
  deprecated: ['a boolean', (v) => typeof v === 'boolean'],
  capAdd: ['an array of strings', isStringArray],
  securityOpt: ['an array of strings', isStringArray],
  installsAfter: ['an array of strings', isStringArray],
  legacyIds: ['an array of strings', isStringArray],
  containerEnv: ['an object of strings', (v) => isObject(v) && Object.values(v).every((x) => typeof x === 'string')],
  customizations: ['an object', isObject],
  mounts: ['an array of mounts', (v) => Array.isArray(v)],
  options: ['an object of options', isObject],
  onCreateCommand: ['a lifecycle command', isLifecycleCommand],
  updateContentCommand: ['a lifecycle command', isLifecycleCommand],
  postCreateCommand: ['a lifecycle command', isLifecycleCommand],
  postStartCommand: ['a lifecycle command', isLifecycleCommand],
  postAttachCommand: ['a lifecycle command', isLifecycleCommand],
};

/** Problems with one option; an option must match one of the three documented shapes exactly. */
function optionProblems(name: string, option: Json): string[] {
  if (!isObject(option)) return [`options.${name} must be an object`];
  const keys = Object.keys(option);
  const onlyKeys = (allowed: string[]) => keys.every((key) => allowed.includes(key));
  const descriptionOk = option.description === undefined || typeof option.description === 'string';
  const shapes = {
    boolean:
      option.type === 'boolean' && typeof option.default === 'boolean' && onlyKeys(['type', 'default', 'description']),
    enum:
      option.type === 'string' &&
      typeof option.default === 'string' &&
      isStringArray(option.enum) &&
      onlyKeys(['type', 'default', 'description', 'enum']),
    proposals:
      option.type === 'string' &&
      typeof option.default === 'string' &&
      (option.proposals === undefined || isStringArray(option.proposals)) &&
      onlyKeys(['type', 'default', 'description', 'proposals']),
  };
  const problems: string[] = [];
  if (!descriptionOk) problems.push(`options.${name}.description must be a string`);
  if (!shapes.boolean && !shapes.enum && !shapes.proposals) {
    problems.push(
      `options.${name} matches none of the option shapes: {type: "boolean", default: boolean}, ` +
        '{type: "string", default: string, enum: [...]}, {type: "string", default: string, proposals?: [...]} (each with an optional description and no other keys)',
    );
  }
  if (shapes.enum && Array.isArray(option.enum) && !option.enum.includes(option.default)) {
    problems.push(`options.${name}.default is not one of its enum values`);
  }
  return problems;
}

function mountProblems(index: number, mount: Json): string[] {
  if (!isObject(mount)) return [`mounts[${index}] must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(mount))
    if (!['type', 'source', 'target'].includes(key)) problems.push(`mounts[${index}] has unknown property ${key}`);
  if (mount.type !== 'bind' && mount.type !== 'volume')
    problems.push(`mounts[${index}].type must be "bind" or "volume"`);
  if (typeof mount.target !== 'string') problems.push(`mounts[${index}].target must be a string`);
  if (mount.source !== undefined && typeof mount.source !== 'string')
    problems.push(`mounts[${index}].source must be a string`);
  return problems;
}

/** Everything in a devcontainer-feature.json document that the Feature metadata schema does not allow. */
export function featureMetadataProblems(doc: Json): string[] {
  if (!isObject(doc)) return ['the document must be a JSON object'];
  const problems: string[] = [];
  for (const required of ['id', 'version']) if (!(required in doc)) problems.push(`${required} is required`);
  for (const [key, value] of Object.entries(doc)) {
    const check = propertyChecks[key];
    if (!check) {
      problems.push(`unknown property ${key} (the schema allows no additional properties)`);
      continue;
    }
    if (!check[1](value)) problems.push(`${key} must be ${check[0]}`);
  }
  if (isObject(doc.options))
    for (const [name, option] of Object.entries(doc.options)) problems.push(...optionProblems(name, option));
  if (Array.isArray(doc.mounts)) doc.mounts.forEach((mount, index) => problems.push(...mountProblems(index, mount)));
  return problems;
}

/** Semantic Versioning 2.0.0, as the schema asks of `version`. */
export const semver =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
