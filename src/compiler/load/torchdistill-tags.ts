// The YAML tags torchdistill registers on yaml.FullLoader (common/yaml_util.py), with the node kind each
// constructor reads. tdc evaluates `!join`, and `!import_call`/`!import_get` of pure tensor constructors and
// dtypes (tensor-constant.ts); the rest stay on their nodes as inert tags.
import type { ConfigNode } from './config-node.js';

export const TORCHDISTILL_TAGS: ReadonlyMap<string, ConfigNode['kind']> = new Map<string, ConfigNode['kind']>([
  ['!join', 'seq'],
  ['!pathjoin', 'seq'],
  ['!expanduser', 'scalar'],
  ['!abspath', 'scalar'],
  ['!import_get', 'map'],
  ['!import_call', 'map'],
  ['!import_call_method', 'map'],
  ['!call_method', 'map'],
  ['!getattr', 'seq'],
  ['!setattr', 'seq'],
  ['!access_by_index_or_key', 'map'],
]);

export const YAML_TAG_PREFIX = 'tag:yaml.org,2002:';

export const KIND_NAME: Record<ConfigNode['kind'], string> = { scalar: 'a scalar', seq: 'a sequence', map: 'a mapping' };
