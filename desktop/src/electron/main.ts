// Electron's main process: a thin shell around DesktopCore (all behaviour lives in ../main, which
// the development server and the tests run under plain Node). It owns the window (hidden, not
// closed, when the user closes it: the app keeps running in the tray), the tray icon and menu,
// auto-start at login, and the IPC side of the DesktopApi.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, Menu, nativeImage, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import pino from 'pino';
import { EVENT_CHANNEL, METHODS, METHOD_NAMES, SUBSCRIBE_CHANNEL, channel, type AppState, type MethodName, type TrayStatus } from '../contract.js';
import { packagedAgentCommand, sourceAgentCommand } from '../main/agent-command.js';
import { setLinuxAutostart } from '../main/autostart.js';
import { DesktopCore } from '../main/core.js';
import type { AgentCommand } from '../main/supervisor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = app.isPackaged ? path.join(process.resourcesPath, 'assets') : path.join(here, '../../assets');
const rendererIndex = path.join(here, '../renderer/index.html');
const log = pino({ base: { component: 'desktop' } });

/** The agent: bundled beside the app when packaged (electron-builder extraResources), else this checkout's. */
function agentCommand(): AgentCommand {
  return app.isPackaged ? packagedAgentCommand(path.join(process.resourcesPath, 'agent')) : sourceAgentCommand();
}

let core: DesktopCore;
let window: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;

function showWindow(): void {
  if (!window) {
    window = new BrowserWindow({
      width: 980,
      height: 820,
      show: false,
      title: 'Lattice',
      icon: path.join(assets, 'icon.png'),
      webPreferences: { preload: path.join(here, 'preload.cjs'), contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true },
    });
    // The renderer is local and self-contained: it opens nothing and goes nowhere else.
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    window.webContents.on('will-navigate', (event) => event.preventDefault());
    window.on('close', (event) => {
      if (quitting) return;
      event.preventDefault();
      window?.hide();
    });
    window.once('ready-to-show', () => window?.show());
    void window.loadFile(rendererIndex);
    return;
  }
  window.show();
  window.focus();
}

const trayIcon = (status: TrayStatus) => nativeImage.createFromPath(path.join(assets, `tray-${status}.png`));

function updateTray(state: AppState): void {
  tray ??= new Tray(trayIcon(state.tray.status));
  tray.setImage(trayIcon(state.tray.status));
  tray.setToolTip(state.tray.tooltip);
  const joined = state.phase === 'joined';
  const stopped = state.agent.process === 'stopped';
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: state.tray.tooltip, enabled: false },
      { type: 'separator' },
      { label: 'Start', enabled: joined && stopped, click: () => void core.startAgent() },
      { label: 'Stop', enabled: joined && !stopped, click: () => void core.stopAgent() },
      { label: 'Pause until tomorrow', enabled: joined && !state.pausedUntil, click: () => void core.pauseUntilTomorrow() },
      { type: 'separator' },
      { label: 'Open Lattice', click: showWindow },
      { label: 'Open console', enabled: !!state.consoleUrl, click: () => void core.openConsole() },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]),
  );
  tray.removeAllListeners('click');
  tray.on('click', showWindow);
}

/** Only the app's own page may call the API. */
function fromApp(event: IpcMainInvokeEvent | Electron.IpcMainEvent): boolean {
  return !!window && event.sender === window.webContents && (event.senderFrame?.url ?? '').startsWith('file://');
}

function serveApi(): void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channel(method), async (event, ...raw: unknown[]) => {
      if (!fromApp(event)) throw new Error('refused: the call did not come from the Lattice window');
      const args = METHODS[method].input.parse(raw);
      const call = core[method as MethodName] as (...a: unknown[]) => Promise<unknown>;
      return METHODS[method].output.parse(await call.apply(core, args));
    });
  }
  // One subscription per page load: a reload replaces the previous one.
  let unsubscribe: (() => void) | undefined;
  ipcMain.on(SUBSCRIBE_CHANNEL, (event) => {
    if (!fromApp(event)) return;
    unsubscribe?.();
    const sender = event.sender;
    unsubscribe = core.subscribe((appEvent) => {
      if (!sender.isDestroyed()) sender.send(EVENT_CHANNEL, appEvent);
    });
  });
}

async function start(): Promise<void> {
  const userData = app.getPath('userData');
  core = new DesktopCore({
    appDir: userData,
    agentStateDir: path.join(userData, 'agent'),
    agent: agentCommand(),
    consoleUrl: process.env.LATTICE_CONSOLE_URL,
    openExternal: (url) => shell.openExternal(url),
    log,
  });
  serveApi();
  let autoStart: boolean | undefined;
  core.subscribe((event) => {
    if (event.type !== 'state') return;
    updateTray(event.state);
    if (event.state.settings.autoStart !== autoStart) {
      autoStart = event.state.settings.autoStart;
      if (process.platform === 'linux') void setLinuxAutostart(autoStart, process.env.APPIMAGE ?? process.execPath).catch((err: Error) => log.warn({ err }, 'setting autostart failed'));
      else app.setLoginItemSettings({ openAtLogin: autoStart, openAsHidden: true, args: ['--hidden'] });
    }
  });
  await core.init();
  // Started at login (--hidden): stay in the tray. Started by the user, or not joined yet: show the window.
  const state = await core.getState();
  const atLogin = process.argv.includes('--hidden') || app.getLoginItemSettings().wasOpenedAtLogin;
  if (state.phase === 'onboarding' || !atLogin) showWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  // The app lives in the tray: closing every window does not quit it.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    // Stop the agent cleanly: its containers keep running and are adopted at the next start.
    void (core ? core.close() : Promise.resolve())
      .catch((err: Error) => log.error({ err }, 'stopping the agent failed'))
      .finally(() => app.quit());
  });
  void app.whenReady().then(start);
}
