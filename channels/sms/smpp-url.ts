// SMPP_URL → transport options: smpp://systemId:password@host:port (port 2775 by default).
import type { SmsTransportOptions } from './transport';

export const DEFAULT_SMPP_PORT = 2775;

export function smppOptionsFromUrl(
  url: string,
): Pick<SmsTransportOptions, 'host' | 'port' | 'systemId' | 'password'> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('SMPP_URL must look like smpp://systemId:password@host:port');
  }
  if (u.protocol !== 'smpp:' || !u.hostname || !u.username) {
    throw new Error('SMPP_URL must look like smpp://systemId:password@host:port');
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : DEFAULT_SMPP_PORT,
    systemId: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}
