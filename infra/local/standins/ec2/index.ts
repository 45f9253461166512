/** The local EC2 stand-in (see server.ts). */
export { type Ec2StandIn, type Ec2StandInKnobs, type Ec2StandInOptions, startEc2StandIn } from './server';
export { DEFAULT_IMAGES, type SeedImage } from './world';
