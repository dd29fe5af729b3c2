#!/usr/bin/env python3
# Generates test/fixtures/tensor-constants.json: torch 1.13's own results for the tensor constructors tdc
# evaluates statically (src/compiler/load/tensor-constant.ts). Each case is the YAML a config would carry and
# what torch builds from it (dtype, shape, values). Run: /usr/bin/python3 scripts/gen-tensor-constants.py
import json, os, torch

CASES = [
    ("torch.tensor", "{args: [[0.62, 2.09, 1.0]]}"),
    ("torch.tensor", "{args: [[1, 2, 3]]}"),
    ("torch.tensor", "{args: [[true, false]]}"),
    ("torch.tensor", "{args: [[1, 2.5, true]]}"),
    ("torch.tensor", "{args: [[[1.0, 2.0], [3.0, 4.0]]]}"),
    ("torch.tensor", "{args: [2.0]}"),
    ("torch.tensor", "{args: [[]]}"),
    ("torch.tensor", "{args: [[0.1, 1.5, 2.7]], kwargs: {dtype: !import_get {key: 'torch.float16'}}}"),
    ("torch.tensor", "{args: [[0.1, 1.5, -2.7]], kwargs: {dtype: !import_get {key: 'torch.int64'}}}"),
    ("torch.tensor", "{args: [[0.1, 1.0e-8, 3.3]], kwargs: {dtype: !import_get {key: 'torch.float32'}}}"),
    ("torch.tensor", "{args: [[0.1, 300.7]], kwargs: {dtype: !import_get {key: 'float64', package: 'torch'}}}"),
    ("torch.tensor", "{args: [[0.1, 300.7]], kwargs: {dtype: !import_get {key: 'torch.bfloat16'}}}"),
    ("torch.ones", "{args: [3]}"),
    ("torch.ones", "{args: [2, 3]}"),
    ("torch.zeros", "{args: [[2, 2]], kwargs: {dtype: !import_get {key: 'torch.long'}}}"),
    ("torch.full", "{args: [[3], 2]}"),
    ("torch.full", "{args: [[2], 0.5]}"),
    ("torch.full", "{args: [[2], true]}"),
    ("torch.arange", "{args: [5]}"),
    ("torch.arange", "{args: [1, 2.0, 0.25]}"),
    ("torch.arange", "{args: [0, 1, 0.1]}"),
    ("torch.arange", "{args: [10, 0, -3]}"),
    ("torch.linspace", "{args: [0, 1, 5]}"),
    ("torch.linspace", "{args: [-1.5, 2.25, 7], kwargs: {dtype: !import_get {key: 'torch.float64'}}}"),
]

DT = {torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
      torch.int64: 'int64', torch.int32: 'int32', torch.bool: 'bool'}

def py(v):
    """The YAML flow mapping as Python (a tiny reader for the forms above)."""
    import re, yaml
    class L(yaml.SafeLoader):
        pass
    def get(loader, node):
        m = loader.construct_mapping(node)
        name = (m['package'] + '.' + m['key']) if 'package' in m else m['key']
        return getattr(torch, name.split('.', 1)[1])
    L.add_constructor('!import_get', get)
    return yaml.load(v, Loader=L)

out = []
for key, init in CASES:
    spec = py(init)
    fn = getattr(torch, key.split('.', 1)[1])
    t = fn(*spec.get('args', []), **spec.get('kwargs', {}))
    out.append({"key": key, "init": init, "dtype": DT[t.dtype], "shape": list(t.shape),
                "data": [float(x) for x in t.double().flatten().tolist()] if t.dtype != torch.bool else [float(x) for x in t.flatten().tolist()]})
path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'tensor-constants.json')
with open(path, 'w') as f:
    json.dump({"generator": "scripts/gen-tensor-constants.py", "torch": torch.__version__, "cases": out}, f, indent=1)
print(f"wrote {len(out)} cases to {path}")
