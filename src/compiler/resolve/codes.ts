// Diagnostic codes of the resolve stage (config tree → criterion IR). Stable: tests and users match on them.
export const R = {
  /** note: a legacy-schema (pre-v1.0) criterion mapped onto the modern IR, or a detail of that mapping. */
  LEGACY: 'TDC200',
  /** error: the config has no usable `train` section / a stage or section has the wrong shape. */
  STRUCTURE: 'TDC201',
  /** error: unknown high-level loss key (criterion.key). */
  UNKNOWN_HIGH: 'TDC202',
  /** error: unknown loss key in a sub-term (neither mid-level nor low-level). */
  UNKNOWN_LOSS: 'TDC203',
  /** error: unknown loss wrapper key. */
  UNKNOWN_WRAPPER: 'TDC204',
  /** error: a kwarg the loss does not declare and has no `**` to swallow (torchdistill: TypeError). */
  UNKNOWN_KWARG: 'TDC205',
  /** warning: a kwarg swallowed by `**kwargs` and ignored by torchdistill. */
  IGNORED_KWARG: 'TDC206',
  /** error: a required kwarg / struct field is missing. */
  MISSING_KWARG: 'TDC207',
  /** error: a kwarg value does not match the declared type. */
  TYPE: 'TDC208',
  /** error: a tensor a loss reads is not captured by the stage's forward_hook (torchdistill #481: KeyError). */
  NOT_HOOKED: 'TDC209',
  /** error: a teacher tensor read in a stage without a teacher (TrainingBox: io_dict['teacher'] is {}). */
  NO_TEACHER: 'TDC210',
  /** error: a torch (low-level) loss used as a sub-term without a criterion_wrapper. */
  LOW_WITHOUT_WRAPPER: 'TDC211',
  /** error: a sub-term without `weight` (torchdistill: KeyError). */
  NO_WEIGHT: 'TDC212',
  /** error: a sub-term criterion without `kwargs`, or with an empty (null) `kwargs:`. */
  NO_KWARGS: 'TDC213',
  /** warning: func2extract_model_loss names a function torchdistill itself does not register. */
  UNKNOWN_EXTRACT: 'TDC214',
  /** error: a loss wrapper around a mid-level loss (the wrapper calls it as loss(input, target)). */
  WRAPPED_MID: 'TDC215',
  /** warning: a key torchdistill never reads in a criterion / sub-term / model_term / wrapper mapping. */
  IGNORED_KEY: 'TDC216',
  /** error: a sub-term without `criterion`, or a criterion/wrapper without `key`. */
  NO_KEY: 'TDC217',
  /** error: a stage without `criterion`. */
  NO_CRITERION: 'TDC218',
  /** error: a tagged (!import_call, ...) value where tdc needs a plain value it can compile in. */
  TAGGED: 'TDC219',
  /** error: an unknown struct field (pair configs, kernel_config, wrapper input/target). */
  UNKNOWN_FIELD: 'TDC220',
  /** internal error in the resolve stage (a bug in tdc). */
  INTERNAL: 'TDC299',
} as const;
