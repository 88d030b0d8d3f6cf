// tenant-storage: the CloudFront Function (viewer request, cloudfront-js-2.0) in front of every media-gallery
// bucket of a stack served through CloudFront (tenant_storage/public_access.py, docs/public-access.md).
//
// GET or HEAD https://<distribution>/<orgId>/pub/<key> reads pub/<key> of that tenant's bucket. The bucket is
// looked up in the stack's key value store (orgId -> the bucket's regional domain), never built from the path:
// only a bucket the stack declares can be reached, and an orgId it does not list is a 404 here. The request
// leaves signed by origin access control (SigV4), so the bucket's policy decides, and it allows pub/* only.
// The orgId goes into the x-tenant header, which the cache policy keys on: two tenants' pub/logo.png are two
// cache entries, though both reach their origin as /pub/logo.png.
import cf from 'cloudfront';

const tenants = cf.kvs();
const PUBLIC_OBJECT = /^\/([^/]+)\/(pub\/.+)$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

// The key as S3 reads it (percent-decoded): %2e%2e is a dot segment too. Malformed escapes are one as well.
function decoded(key) {
  try {
    return decodeURIComponent(key);
  } catch (malformed) {
    return '..';
  }
}

function refuse(statusCode, statusDescription) {
  return { statusCode: statusCode, statusDescription: statusDescription };
}

async function handler(event) {
  const request = event.request;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return refuse(405, 'Method Not Allowed');
  }
  const match = PUBLIC_OBJECT.exec(request.uri);
  if (!match || DOT_SEGMENT.test(decoded(match[2]))) {
    return refuse(404, 'Not Found');
  }
  let origin;
  try {
    origin = await tenants.get(match[1]);
  } catch (notListed) {
    return refuse(404, 'Not Found');
  }
  request.uri = '/' + match[2];
  // S3 reads a query string as a subresource (?acl, ?versionId=): only the object itself is served.
  request.querystring = {};
  request.headers['x-tenant'] = { value: match[1] };
  cf.updateRequestOrigin({
    domainName: origin,
    originAccessControlConfig: {
      enabled: true,
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
      originType: 's3',
    },
  });
  return request;
}
