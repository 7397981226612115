// The channel registry: every channel the product sends on, each a module
// (folder) with its preparation, delivery, outcome classification and single
// send. Keyed by domain/channels.ts's names, so a channel named there and not
// declared here does not compile. The worker builds every sender from here.
import type { Channel } from '../domain/channels';
import type { ChannelModule, ChannelSender, SenderEnv } from './sender';
import { emailChannel } from './email/sender';
import { smsChannel } from './sms/sender';
import { lineChannel } from './line/sender';

export const CHANNEL_MODULES: Readonly<Record<Channel, ChannelModule>> = {
  email: emailChannel,
  sms: smsChannel,
  line: lineChannel,
};

/** The senders this worker can run: one per channel whose transport is configured. */
export function createSenders(env: SenderEnv): Partial<Record<Channel, ChannelSender>> {
  const senders: Partial<Record<Channel, ChannelSender>> = {};
  for (const module of Object.values(CHANNEL_MODULES)) {
    const sender = module.createSender(env);
    if (sender) senders[module.name] = sender;
  }
  return senders;
}
