import { controlFunctionHandler } from '../runtime/lambda.js';

/** The controllers function (kube-controller-manager's loops): table stream, retry queue, schedule. */
export const handler = controlFunctionHandler('controllers');
