/**
 * Transport security shared by the agents and the CLI: mutual TLS with certificates and keys by
 * path ({@link dev.pagehop.security.TlsOptions}). Every server requires a client certificate
 * signed by its trusted CA, so a target accepts migrations only from sources it trusts; plaintext
 * exists for loopback development and must be asked for, twice for a non-loopback address.
 */
package dev.pagehop.security;
