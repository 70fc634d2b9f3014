import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LambernetesStack } from './stack.js';

const app = new App();
new LambernetesStack(app, app.node.tryGetContext('stackName') ?? 'Lambernetes');
// cdk-nag's AWS Solutions rules on every synth and deploy: an unacknowledged finding stops both.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
