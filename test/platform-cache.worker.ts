// A module worker for test/platform-cache.test.ts: the browser cache as the web page's training
// worker uses it, where there is no localStorage.
import { loadCacheText, saveCacheText } from '../src/gpu/platform-browser.ts';

export interface CacheRequest {
  op: 'save' | 'load';
  name: string;
  text?: string;
}

export interface CacheReply {
  text: string | null;
  hasLocalStorage: boolean;
}

self.addEventListener('message', (ev: MessageEvent<CacheRequest>) => {
  const { op, name, text } = ev.data;
  void (async () => {
    if (op === 'save') await saveCacheText(name, text ?? '');
    const reply: CacheReply = { text: await loadCacheText(name), hasLocalStorage: typeof localStorage !== 'undefined' };
    self.postMessage(reply);
  })();
});
