// Channel plugin `telegram`: the Telegram Bot API's sendMessage, as plain text (no parse mode: a
// service name with an underscore must not break Markdown) with link buttons under it.
import { z } from 'zod';
import type { TelegramChannel } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { headline, type NotifyEvent } from '../event.js';
import { EMOJI, httpUrl, linksOf, secret } from '../fields.js';
import { postJson } from '../http.js';

export function telegramRequest(channel: Pick<TelegramChannel, 'apiBase' | 'botToken' | 'chatId'>, e: NotifyEvent, linkBase: string | null = null): { url: string; body: Record<string, unknown> } {
  const links = linksOf(e, linkBase);
  return {
    url: `${channel.apiBase.replace(/\/+$/, '')}/bot${channel.botToken}/sendMessage`,
    body: {
      chat_id: channel.chatId,
      text: `${EMOJI[e.severity]} ${headline(e)}`.slice(0, 4096),
      disable_web_page_preview: true,
      ...(links.length > 0 ? { reply_markup: { inline_keyboard: [links.map((l) => ({ text: l.label, url: l.url }))] } } : {}),
    },
  };
}

export default defineChannel({
  name: 'telegram',
  description: 'Telegram Bot API sendMessage to a chat',
  config: z.strictObject({
    botToken: secret('the bot token from @BotFather'),
    chatId: z.union([z.string().min(1), z.int()]).transform(String).meta({ description: 'The chat, group or channel id (or @channelusername).' }),
    apiBase: httpUrl.default('https://api.telegram.org'),
  }),
  compile: (c) => ({ botToken: c.botToken, chatId: c.chatId, apiBase: c.apiBase }),
  prerequisites: [],
  deliver: (channel, event, signal) => {
    const r = telegramRequest(channel, event);
    return postJson(r.url, r.body, signal);
  },
  secrets: () => ['telegram botToken'],
});
