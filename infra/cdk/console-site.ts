/**
 * The operator console: a private S3 bucket served by CloudFront (origin access control), holding
 * web/ when it has files and a placeholder page otherwise, plus a generated config.json that tells
 * the console where the API and the user pool are.
 */
import { existsSync, readdirSync } from 'node:fs';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

/** Properties of the console site. */
export interface ConsoleSiteProps {
  /** Keep the bucket on stack deletion. */
  readonly retain: boolean;
  /** Folder of the console's static files. */
  readonly webDir: string;
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>XOS</title></head>
<body><h1>XOS</h1><p>The operator console is not built yet. The API is described by <code>config.json</code>.</p></body>
</html>
`;

/** Bucket + distribution of the console. */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  private readonly sources: deploy.ISource[];
  private readonly retain: boolean;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.retain = props.retain;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'XOS operator console',
      defaultRootObject: 'index.html',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
    });
    const hasFiles = existsSync(props.webDir) && readdirSync(props.webDir).some((f) => !f.startsWith('.'));
    this.sources = [hasFiles ? deploy.Source.asset(props.webDir) : deploy.Source.data('index.html', PLACEHOLDER)];
  }

  /** Deploy the console files with a config.json (values may be deploy-time tokens). */
  publishConfig(config: Record<string, string>): void {
    new deploy.BucketDeployment(this, 'Files', {
      sources: [...this.sources, deploy.Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 256,
      // A dev stack's teardown removes the files, so the bucket is empty and can be deleted with it.
      retainOnDelete: this.retain,
    });
  }
}
