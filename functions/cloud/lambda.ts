import { controlFunctionHandler } from '../runtime/lambda.js';

/** The cloud controller function (cloud-controller-manager): node and pod changes, a schedule. */
export const handler = controlFunctionHandler('cloud');
