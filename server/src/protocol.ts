// Every custom request/notification between the extension client and the language server,
// declared once so both sides share the names and the payload types.
import { NotificationType } from 'vscode-languageserver-protocol';
import type { ServiceSettings } from './service';

export interface ServerStatus {
  message: string;
  severity: 'info' | 'warning' | 'error';
  /** Longer text for the status bar item's tooltip. */
  detail?: string;
}
/** Server → client: something the user should see in the status bar (schema in use, failures). */
export const ServerStatusNotification = new NotificationType<ServerStatus>('virtStudio/status');

/** Client → server: the user changed `virtStudio.*` settings; revalidate open documents. */
export type SettingsChange = Partial<ServiceSettings> & { debounceMs?: number };
export const SettingsChangedNotification = new NotificationType<SettingsChange>('virtStudio/settingsChanged');
