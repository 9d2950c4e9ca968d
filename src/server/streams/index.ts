// Upgrade plumbing for exec, attach and port-forward; the HTTP server's 'upgrade' handler
// authenticates, checks the pod, then calls one of these.
export {
  handleExecUpgrade, parseStreamQuery, execStatus,
  type ExecSession, type ExecOptions, type ExecResult, type StreamQuery, type TerminalSize,
} from './exec.ts';
export { handlePortForwardUpgrade, queryPorts, type PortDialer } from './portforward.ts';
export { rejectUpgrade, isWebSocketUpgrade, isSpdyUpgrade } from './upgrade.ts';
