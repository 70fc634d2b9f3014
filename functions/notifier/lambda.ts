import { controlFunctionHandler } from '../runtime/lambda.js';

/** The notifier function (pod changes → the node agents' queues): table stream, retry queue, schedule. */
export const handler = controlFunctionHandler('notifier');
