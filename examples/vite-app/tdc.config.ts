// The torchdistill configs this app compiles. The bundler plugin (vite.config.ts, build-esbuild.mjs) compiles
// them at build start and on every change in dev; `npx tdc compile` does the same from the command line.
import { defineConfig } from 'tdc-compiler/config';

export default defineConfig({
  // One subfolder per config: src/generated/kd/{kd.ts, kernels/, manifest.json}
  outDir: 'src/generated',
  configs: [
    {
      config: '../kd/config.yaml', // torchdistill's ImageNet KD sample (resnet18 from resnet34)
      name: 'kd',
      // ranks and sizes of the io_dict tensors from a sample; its batch dim stays symbolic (any batch size)
      like: '../kd/io.safetensors',
    },
  ],
});
