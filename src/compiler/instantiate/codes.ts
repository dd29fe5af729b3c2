// Diagnostic codes of the instantiate stage (4xx).
export const C = {
  missingInput: 'TDC401',
  badInput: 'TDC402',
  shape: 'TDC403',
  unknownName: 'TDC404',
  notCompileTime: 'TDC405',
  specError: 'TDC406',
  type: 'TDC407',
  args: 'TDC408',
  key: 'TDC409',
  loss: 'TDC410',
  notScalar: 'TDC411',
  modelLoss: 'TDC412',
  recursion: 'TDC413',
  limit: 'TDC414',
  internal: 'TDC499',
} as const;
