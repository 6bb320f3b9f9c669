/**
 * `npm run deploy-commands`: registers the slash commands with Discord, once (not on every start), as the
 * discord.js guide does. With DISCORD_GUILD_ID set they go to that guild (visible at once, for development);
 * otherwise globally. Needs DISCORD_TOKEN and DISCORD_APPLICATION_ID; honours DISCORD_API_URL (a REST proxy).
 */
import { REST, Routes, type RESTPutAPIApplicationCommandsResult } from 'discord.js';
import { commands } from '../commands/index.ts';
import { ConfigError, loadConfig, loadDotEnv, type Config } from '../src/config.ts';
import { redact } from '../src/log.ts';

export interface DeployResult {
  scope: 'guild' | 'global';
  guildId?: string;
  names: string[];
}

/** The definitions that are registered (also what the tests check against Discord's rules). */
export function commandDefinitions() {
  return commands.map((c) => c.data);
}

export async function deployCommands(
  config: Config,
  opts: { rest?: Partial<ConstructorParameters<typeof REST>[0]> } = {},
): Promise<DeployResult> {
  const { token, applicationId, guildId, apiUrl } = config.discord;
  if (!token || !applicationId) {
    throw new ConfigError(
      'deploy-commands needs DISCORD_TOKEN and DISCORD_APPLICATION_ID (from the Discord developer portal).',
    );
  }
  const rest = new REST({ api: apiUrl, ...opts.rest }).setToken(token);
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  const registered = (await rest.put(route, { body: commandDefinitions() })) as RESTPutAPIApplicationCommandsResult;
  return { scope: guildId ? 'guild' : 'global', ...(guildId ? { guildId } : {}), names: registered.map((c) => c.name) };
}

async function main(): Promise<number> {
  let token: string | undefined;
  try {
    loadDotEnv();
    const config = loadConfig();
    token = config.discord.token;
    const r = await deployCommands(config);
    process.stdout.write(
      `registered ${r.names.length} commands (${r.names.map((n) => `/${n}`).join(', ')}) ${r.scope === 'guild' ? `in guild ${r.guildId}` : 'globally (may take up to an hour to show everywhere)'}\n`,
    );
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${redact(message, token ? [token] : [])}\n`);
    return 1;
  }
}

if (process.argv[1]?.endsWith('deploy-commands.ts')) process.exitCode = await main();
