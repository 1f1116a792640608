// The renderer's one way to the main process: Electron's preload puts the DesktopApi on
// window.lattice; in a plain browser (development mode) the HTTP adapter implements it.
import type { DesktopApi } from '../contract.js';
import { httpApi } from './http-api.js';

declare global {
  interface Window {
    lattice?: DesktopApi;
  }
}

export const api: DesktopApi = window.lattice ?? httpApi();
