import { App } from 'aws-cdk-lib';
import { LambernetesStack } from './stack.js';

const app = new App();
new LambernetesStack(app, app.node.tryGetContext('stackName') ?? 'Lambernetes');
