import { z } from 'zod';
import { ConfigSchema } from './schema';

/** The JSON Schema of a Hourbridge config file, for editors (input side: defaults are optional). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'Hourbridge configuration',
  };
}
