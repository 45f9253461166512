/** The EC2 contract against the local stand-in (instances take 300 ms from pending to running). */
import { startEc2StandIn } from '../../../infra/local/standins/ec2';
import { ec2Contract } from './contract';

ec2Contract('local stand-in', () => startEc2StandIn({ settleMs: 300 }));
