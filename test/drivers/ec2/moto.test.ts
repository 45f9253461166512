/** The same EC2 contract against moto_server, which this file starts and stops. */
import { ec2Contract } from './contract';
import { motoAvailable, startMoto, warnMotoMissing } from './moto';

if (motoAvailable()) {
  ec2Contract('moto_server', async () => {
    const moto = await startMoto();
    return {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
      stop: moto.stop,
    };
  });
} else {
  warnMotoMissing('the EC2 contract against moto_server');
  test.skip('EC2 contract: moto_server (moto_server missing)', () => undefined);
}
