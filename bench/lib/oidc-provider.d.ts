// The part of oidc-provider 8's API the OpenID Connect peer uses (oidc-provider ships no types).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** Why /auth asks for an interaction: the prompt (login, consent) and the checks that failed. */
  interface Prompt {
    name: string;
    reasons: string[];
  }

  export interface Interaction {
    uid: string;
    params: Record<string, unknown>;
    prompt: Prompt;
  }

  class Grant {
    constructor(options: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    Grant: typeof Grant;
    on(event: 'interaction.started', listener: (ctx: unknown, prompt: Prompt) => void): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export default Provider;
}

// The in-memory adapter's store, replaceable (bench/lib/oidc-memory-storage.mjs says why).
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  export function setStorage(store: {
    get(key: string): unknown;
    set(key: string, value: unknown, maxAgeMs?: number): unknown;
    delete(key: string): unknown;
  }): void;
}
