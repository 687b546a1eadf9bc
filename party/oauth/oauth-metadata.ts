import {
  type AuthorizationServerMetadata,
  OAUTH_SCOPES,
  OAuthClientAuthMethod,
  type ProtectedResourceMetadata,
} from "../../protocol/index.ts";

/** Where the metadata lives (docs/oauth.md): clients find the first from the 401's challenge. */
export const PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";
export const AUTHORIZATION_SERVER_PATH = "/.well-known/oauth-authorization-server";

/** The protected resource: `{public}/mcp`, the only audience the mesh's tokens have. */
export const resourceOf = (base: string): string => `${base}/mcp`;

/** The URL the `/mcp` 401 names in `resource_metadata`. */
export const resourceMetadataUrl = (base: string): string => `${base}${PROTECTED_RESOURCE_PATH}/mcp`;

/** RFC 9728. */
export function protectedResourceMetadata(base: string): ProtectedResourceMetadata {
  return {
    resource: resourceOf(base),
    authorization_servers: [base],
    scopes_supported: [...OAUTH_SCOPES],
    bearer_methods_supported: ["header"],
    resource_name: "agent-mesh",
  };
}

/** RFC 8414: the mesh is its own authorization server; its issuer is the public base URL. */
export function authorizationServerMetadata(base: string): AuthorizationServerMetadata {
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    registration_endpoint: `${base}/oauth/register`,
    revocation_endpoint: `${base}/oauth/revoke`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: [...OAuthClientAuthMethod.options],
    revocation_endpoint_auth_methods_supported: [...OAuthClientAuthMethod.options],
    scopes_supported: [...OAUTH_SCOPES],
    client_id_metadata_document_supported: true,
  };
}
