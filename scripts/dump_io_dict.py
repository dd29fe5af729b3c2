#!/usr/bin/env python3
"""Dump a torchdistill io_dict to safetensors with the tensor names `tdc run` / `tdc compile --like` expect.

Use it inside your PyTorch training or evaluation code to check tdc against your own run:

    import sys; sys.path.insert(0, 'path/to/tdc/scripts')
    from dump_io_dict import IoDictDumper

    dumper = IoDictDumper.from_config('config.yaml', student=student, teacher=teacher, stage='train')
    with dumper:                                  # registers the config's forward hooks
        teacher_out = teacher(images)
        student_out = student(images)
    dumper.save('io.safetensors', student_output=student_out, teacher_output=teacher_out, targets=labels)

then `tdc run config.yaml --inputs io.safetensors` prints the loss and every term, and `--grads-out` the gradients,
to compare with torchdistill's criterion on the same batch (see `--demo`).

Names (as in tdc's golden/ fixtures): `student/<module_path>/<io>` for io_dict['student'][module_path][io] with io
`input` or `output`; `/<i>` is appended for tuple elements and `/<key>` for dict entries; `student/./output` is the
model's own output (torchdistill's SELF_MODULE_PATH '.'); `teacher/...` likewise; `targets` the label batch.
Hooks follow torchdistill's forward-hook manager: a module's input is its first positional argument when there is
only one; module paths are dotted attribute names where integers index into containers (`layer1.-1.relu`).

Needs only torch (and PyYAML to read the config); the safetensors file is written by hand (little-endian,
header padded to 8 bytes). float16/bfloat16/float32/float64 tensors keep their dtype; integer tensors are I64/I32.

    python3 scripts/dump_io_dict.py --demo out.safetensors [--config examples/kd/config.yaml]
runs two small random models through the config's hooks, writes their io_dict, and prints the KD loss computed by
torch so it can be compared with `tdc run <config> --inputs out.safetensors`.
"""
import argparse
import json
import struct
import sys

import torch

_DTYPES = {
    torch.float64: 'F64',
    torch.float32: 'F32',
    torch.float16: 'F16',
    torch.bfloat16: 'BF16',
    torch.int64: 'I64',
    torch.int32: 'I32',
}


def get_module(model, path):
    """The submodule at a torchdistill module path ('.' is the model itself; integers index containers)."""
    if path == '.':
        return model
    module = model
    for part in path.split('.'):
        if part.lstrip('-').isdigit():
            module = module[int(part)]
        elif hasattr(module, part):
            module = getattr(module, part)
        else:
            raise KeyError(f"module path '{path}': '{type(module).__name__}' has no attribute '{part}'")
    return module


def flatten(prefix, value, out):
    """Adds `value` (a tensor, or a tuple/list/dict of them) to `out` under `prefix`, in torchdistill's layout."""
    if torch.is_tensor(value):
        out[prefix] = value
    elif isinstance(value, (tuple, list)):
        if len(value) == 1:
            flatten(prefix, value[0], out)
        else:
            for i, v in enumerate(value):
                flatten(f'{prefix}/{i}', v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            flatten(f'{prefix}/{k}', v, out)
    elif value is not None:
        raise TypeError(f"'{prefix}': cannot store a {type(value).__name__}")


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as safetensors (tensors in insertion order, contiguous, little-endian)."""
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _DTYPES:
            raise TypeError(f"'{name}': dtype {t.dtype} is not one tdc reads (float16/bfloat16/float32/float64, int32/int64)")
        # bytes of the raw storage (bfloat16 has no numpy dtype, so go through an int16 view)
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        if sys.byteorder != 'little':
            raise RuntimeError('big-endian hosts are not supported')
        header[name] = {'dtype': _DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class IoDictDumper:
    """Records the io_dict of a student and a teacher through forward hooks on the given module paths.

    hooks: {'student': {'input': [paths], 'output': [paths]}, 'teacher': {...}} (torchdistill's forward_hook)."""

    def __init__(self, models, hooks):
        self.models = models
        self.hooks = hooks
        self.io = {}
        self._handles = []

    @classmethod
    def from_config(cls, config_file, student, teacher=None, stage='train'):
        """The hooks of `stage` in a torchdistill YAML config (modern schema: train.<stage>.student.forward_hook;
        a single-stage config may have them directly under train)."""
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        # torchdistill's tags (!import_call, !join, …) are irrelevant to the hooks: read them as plain values
        Loader.add_multi_constructor('!', lambda loader, suffix, node: None)
        with open(config_file, encoding='utf-8') as f:
            config = yaml.load(f, Loader=Loader)
        train = config.get('train', {})
        stage_cfg = train.get(stage, train) if isinstance(train.get(stage), dict) else train
        models = {'student': student}
        if teacher is not None:
            models['teacher'] = teacher
        hooks = {}
        for side in models:
            side_cfg = stage_cfg.get(side) or stage_cfg.get('model' if side == 'student' else side) or {}
            hooks[side] = side_cfg.get('forward_hook') or {}
        return cls(models, hooks)

    def __enter__(self):
        for side, model in self.models.items():
            for io in ('input', 'output'):
                for path in self.hooks.get(side, {}).get(io, []) or []:
                    self._handles.append(get_module(model, path).register_forward_hook(self._hook(side, path, io)))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        return False

    def _hook(self, side, path, io):
        def hook(module, inputs, output):
            value = inputs if io == 'input' else output
            self.io.setdefault(side, {}).setdefault(path, {})[io] = value
        return hook

    def tensors(self, student_output=None, teacher_output=None, targets=None):
        """The flat {name: tensor} dict `tdc run` reads."""
        out = {}
        for side, paths in self.io.items():
            for path, ios in paths.items():
                for io, value in ios.items():
                    flatten(f'{side}/{path}/{io}', value, out)
        if student_output is not None:
            flatten('student/./output', student_output, out)
        if teacher_output is not None:
            flatten('teacher/./output', teacher_output, out)
        if targets is not None:
            out['targets'] = targets
        return out

    def save(self, path, student_output=None, teacher_output=None, targets=None, metadata=None):
        tensors = self.tensors(student_output, teacher_output, targets)
        write_safetensors(path, tensors, metadata)
        return tensors


def _demo(out_file, config_file):
    """Two random CNNs (named like torchvision's ResNet: layer1..layer4, fc) through the config's hooks."""
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self, width, classes):
            super().__init__()
            self.layer1 = torch.nn.Sequential(torch.nn.Conv2d(3, width, 3, padding=1), torch.nn.ReLU())
            self.layer2 = torch.nn.Sequential(torch.nn.Conv2d(width, width, 3, stride=2, padding=1), torch.nn.ReLU())
            self.layer3 = torch.nn.Sequential(torch.nn.Conv2d(width, width, 3, stride=2, padding=1), torch.nn.ReLU())
            self.layer4 = torch.nn.Sequential(torch.nn.Conv2d(width, width, 3, stride=2, padding=1), torch.nn.ReLU())
            self.fc = torch.nn.Linear(width, classes)

        def forward(self, x):
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(x.mean((2, 3)))

    classes = 10
    student, teacher = Net(8, classes).double(), Net(16, classes).double()
    images = torch.randn(6, 3, 16, 16, dtype=torch.float64)
    labels = torch.randint(0, classes, (6,))
    dumper = IoDictDumper.from_config(config_file, student=student, teacher=teacher)
    with dumper, torch.no_grad():
        t_out = teacher(images)
        s_out = student(images)
    tensors = dumper.save(out_file, student_output=s_out, teacher_output=t_out, targets=labels,
                          metadata={'source': 'scripts/dump_io_dict.py --demo'})
    # torchdistill's KDLoss (temperature 1, alpha 0.5, reduction batchmean) as in examples/kd/config.yaml
    T, alpha = 1.0, 0.5
    soft = torch.nn.functional.kl_div(torch.log_softmax(s_out / T, 1), torch.softmax(t_out / T, 1), reduction='batchmean')
    hard = torch.nn.functional.cross_entropy(s_out, labels)
    kd = alpha * hard + (1 - alpha) * T * T * soft
    print(json.dumps({'file': out_file, 'tensors': {k: list(v.shape) for k, v in tensors.items()},
                      'torch_kd_loss': kd.item()}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--demo', metavar='OUT', help='write the io_dict of two small random models to OUT and print the torch KD loss')
    p.add_argument('--config', default='examples/kd/config.yaml', help='config whose forward hooks to use (with --demo)')
    args = p.parse_args()
    if not args.demo:
        p.print_help()
        return 2
    _demo(args.demo, args.config)
    return 0


if __name__ == '__main__':
    sys.exit(main())
