import { accounts } from './accounts/index.js';
import { catalog } from './catalog/index.js';
import type { AppModule } from './types.js';

/** Every business module, in the order their routes are registered. */
export const modules: AppModule[] = [accounts, catalog];
