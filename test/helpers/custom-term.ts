// The setup of the tests of custom `--spec` losses: a mid-level loss over one student and one teacher tensor
// (`s`, `t`), and a config whose WeightedSumLoss has one sub-term `my` of it. Line numbers are part of what the
// tests assert (a diagnostic at `<spec>:5:14`, at the config term `<config>:8:9`), so the layout is fixed here.

/**
 * A --spec file's text: `mid <name>(student_module_path: path, …, teacher_module_io: io<params>) {` (line 1), `s`
 * and `t` bound to the student's and the teacher's tensor (lines 2–3), then `body` (its own lines, indented by the
 * caller), and `}`. `params`: more parameters, starting with their comma.
 */
export function customTermSpec(name: string, body: string, params = ''): string {
  return `mid ${name}(student_module_path: path, student_module_io: io, teacher_module_path: path, teacher_module_io: io${params}) {
  let s = student[student_module_path][student_module_io]
  let t = teacher[teacher_module_path][teacher_module_io]
${body}
}
`;
}

export interface CustomTermConfig {
  /** The module both tensors come from: its output is hooked on the student and the teacher (none for '.', the
   *  models' output). Default '.'. */
  module?: string;
  /** The term's weight. Default 1.0. */
  weight?: number;
  /** More kwargs of the loss, as YAML flow entries (`scale: 3.0`). */
  kwargs?: string;
}

/** A config whose criterion is a WeightedSumLoss with one sub-term `my` of loss `key` (column 9 of line 8, or of line 6
 *  with the module '.': no hooks). */
export function customTermConfig(key: string, o: CustomTermConfig = {}): string {
  const m = o.module ?? '.';
  const hooks = m === '.' ? '' : `  student: {forward_hook: {input: [], output: ['${m}']}}\n  teacher: {forward_hook: {input: [], output: ['${m}']}}\n`;
  const kwargs = `student_module_path: '${m}', student_module_io: 'output', teacher_module_path: '${m}', teacher_module_io: 'output'${o.kwargs ? `, ${o.kwargs}` : ''}`;
  return `train:
${hooks}  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        my:
          criterion:
            key: '${key}'
            kwargs: {${kwargs}}
          weight: ${(o.weight ?? 1).toFixed(1)}
`;
}
