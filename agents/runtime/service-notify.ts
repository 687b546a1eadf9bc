// systemd's notify protocol for an agent run as a service (agents/vm/README.md): READY=1 once it is
// registered, and WATCHDOG=1 every half of WatchdogSec while its event loop runs, so systemd restarts
// an agent that hangs. Node has no datagram unix sockets, so it goes through `systemd-notify`; the
// unit says NotifyAccess=all for that reason. Outside systemd (no NOTIFY_SOCKET) it does nothing.
import { execFile } from "node:child_process";

export type Notify = (fields: readonly string[]) => void;

const systemdNotify: Notify = (fields) => {
  execFile("systemd-notify", [`--pid=${process.pid}`, ...fields], { timeout: 5000 }, () => undefined);
};

export interface ServiceNotifier {
  ready(status: string): void;
  stop(): void;
}

/** The agent's notifier: pings the watchdog from a timer (a hung event loop stops the pings). */
export function serviceNotifier(env: NodeJS.ProcessEnv = process.env, notify: Notify = systemdNotify): ServiceNotifier {
  if (env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === "")
    return { ready: () => undefined, stop: () => undefined };
  const watchdogUs = Number(env.WATCHDOG_USEC ?? "0");
  const timer =
    watchdogUs > 0 ? setInterval(() => notify(["WATCHDOG=1"]), Math.max(500, watchdogUs / 2000)) : undefined;
  timer?.unref();
  let readySent = false;
  return {
    ready(status) {
      notify(readySent ? [`STATUS=${status}`] : ["READY=1", `STATUS=${status}`]);
      readySent = true;
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      notify(["STOPPING=1"]);
    },
  };
}
