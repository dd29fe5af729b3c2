// A sample io_dict imported as an asset: its URL (Vite: assetsInclude; esbuild: the 'file' loader).
declare module '*.safetensors' {
  const url: string;
  export default url;
}
