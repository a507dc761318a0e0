/** `platform:` (read by lib/platform.ts's usage report): pure data. */
import { field } from '../../component/spec.ts';

export const platformSpec = {
  plan: field
    .enum(['free', 'paid'])
    .describe('The Workers plan whose daily allowances the admin usage report compares against.')
    .default('free'),
};

export const platform = field.object(platformSpec).title('Platform');
