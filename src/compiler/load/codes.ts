// Diagnostic codes of the load stage (TDC1xx).
export const LoadCode = {
  /** The file cannot be read (missing, a directory, permissions). */
  unreadable: 'TDC100',
  /** NUL bytes, invalid UTF-8, or characters YAML forbids. */
  notText: 'TDC101',
  /** Input larger than LoadLimits.maxBytes. */
  tooLarge: 'TDC102',
  /** Error (or warning) reported by the YAML parser. */
  syntax: 'TDC103',
  /** Nothing but whitespace and comments. */
  empty: 'TDC104',
  /** The document is not a mapping. */
  notMapping: 'TDC105',
  /** More than one YAML document in the stream. */
  multipleDocuments: 'TDC106',
  /** Nesting deeper than LoadLimits.maxDepth (in the source or through aliases). */
  tooDeep: 'TDC107',
  /** Too many nodes (in the source or expanded through aliases), or a `!join` result too long. */
  tooBig: 'TDC108',
  /** An alias used inside the node its anchor marks. */
  recursiveAlias: 'TDC109',
  /** A plain scalar that PyYAML (YAML 1.1) and YAML 1.2 read differently. */
  yamlVersion: 'TDC110',
  /** The same key twice in one mapping; PyYAML keeps the last value. */
  duplicateKey: 'TDC111',
  /** A tag that is neither a torchdistill tag nor a standard one tdc supports. */
  unknownTag: 'TDC112',
  /** A `!join` that cannot be evaluated. */
  badJoin: 'TDC113',
  /** A merge key (`<<`) whose value is not a mapping or a list of mappings. */
  badMerge: 'TDC114',
  /** A sequence or mapping used as a mapping key (unhashable in Python). */
  unhashableKey: 'TDC115',
  /** A scalar PyYAML cannot construct (`!!int abc`, `0b_`, a bare `<<` or `=` as a value). */
  badScalar: 'TDC116',
  /** A plain timestamp: PyYAML builds a datetime, tdc keeps the text. */
  timestamp: 'TDC117',
  /** An undefined alias or an anchor defined twice (PyYAML rejects both). */
  badAnchor: 'TDC118',
  /** A tag on the wrong kind of node (`!join` on a mapping, `!!str` on a list). */
  tagNodeKind: 'TDC119',
  /** An integer beyond 2^53: kept as the nearest double. */
  intPrecision: 'TDC120',
  /** An `!import_call` of a tensor constructor with arguments torch rejects (ragged data, a bad size, …). */
  badConstant: 'TDC121',
  /** A bug in the loader, reported instead of thrown. */
  internal: 'TDC199',
} as const;
