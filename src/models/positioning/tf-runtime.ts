import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

// TensorFlow.js backend selection, once per process: the native `tfjs-node` backend when the user installed it,
// otherwise the WebAssembly backend (≈3× faster than the pure-JS `cpu` backend here; tfjs-node cannot install on
// machines without network access to its binaries).

let ready: Promise<string> | null = null;

export function initTensorFlow(): Promise<string> {
  ready ??= (async () => {
    const nodeBackend = '@tensorflow/tfjs-node';
    try {
      await import(/* @vite-ignore */ nodeBackend);
      if (await tf.setBackend('tensorflow')) return 'tensorflow';
    } catch {
      // Not installed: the normal case.
    }
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return 'wasm';
    }
    await tf.setBackend('cpu');
    return 'cpu';
  })();
  return ready;
}

export { tf };
