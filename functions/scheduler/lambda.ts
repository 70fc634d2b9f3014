import { controlFunctionHandler } from '../runtime/lambda.js';

/** The scheduler function: pod changes from the table stream, its retry queue, its schedule. */
export const handler = controlFunctionHandler('scheduler');
