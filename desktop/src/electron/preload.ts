// The renderer's only door to the main process: the DesktopApi, over IPC, and nothing else (no
// ipcRenderer, no Node). The main process validates every argument with the contract's schemas.
// Bundled to CommonJS (a sandboxed preload cannot load modules): see "build:electron".
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AppEvent, DesktopApi } from '../contract.js';
import { EVENT_CHANNEL, METHOD_NAMES, SUBSCRIBE_CHANNEL, channel } from '../ipc.js';

const methods = Object.fromEntries(METHOD_NAMES.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(channel(method), ...args)]));

const api = {
  ...methods,
  onEvent(listener: (event: AppEvent) => void) {
    const handler = (_event: IpcRendererEvent, event: AppEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    ipcRenderer.send(SUBSCRIBE_CHANNEL);
    return () => {
      ipcRenderer.off(EVENT_CHANNEL, handler);
    };
  },
} as DesktopApi;

contextBridge.exposeInMainWorld('lattice', api);
