// One entry point for the rule engine: a Suricata sticky buffer of a flow by name. HTTP and
// HTTP/2 buffers are per transaction (see HttpTransaction.buffer for the names and aliases); DNS
// `dns.query` is per DNS message; TLS and SSH buffers are per flow and direction.
import { AppProto } from './appProto';
import type { AppLayerState } from './appLayerState';

const enc = (s: string | null): Uint8Array | null => (s === null ? null : Uint8Array.from(Buffer.from(s, 'utf8')));

/**
 * The named buffer, or null when the flow has none (yet).
 * @param txIndex for HTTP: the transaction id; for DNS: the index into `state.dns`
 */
export function appLayerBuffer(state: AppLayerState, name: string, toServer: boolean, txIndex = 0): Uint8Array | null {
  switch (state.proto) {
    case AppProto.HTTP: {
      const tx = state.http?.transaction(txIndex);
      return tx ? tx.buffer(name, toServer) : null;
    }
    case AppProto.HTTP2: {
      const tx = state.http2?.transaction(txIndex);
      return tx ? tx.buffer(name, toServer) : null;
    }
    case AppProto.DNS: {
      if (name !== 'dns.query' && name !== 'dns_query') return null;
      const rec = state.dns[txIndex];
      // Suricata's dns.query inspects requests only (to-server direction).
      if (!rec || !toServer || rec.toServer !== true) return null;
      return rec.message.questions[0]?.nameBytes ?? null;
    }
    case AppProto.TLS: {
      const t = state.tls;
      if (!t) return null;
      if (name === 'tls.sni' || name === 'tls_sni') return toServer ? t.sni : null;
      if (name === 'tls.cert_subject' || name === 'tls_cert_subject') return toServer ? null : enc(t.certSubject);
      if (name === 'tls.cert_issuer' || name === 'tls_cert_issuer') return toServer ? null : enc(t.certIssuer);
      if (name === 'ja3.hash') return toServer ? t.ja3Hash : null;
      if (name === 'ja3.string') return toServer ? t.ja3String : null;
      if (name === 'ja3s.hash') return toServer ? null : t.ja3sHash;
      if (name === 'ja3s.string') return toServer ? null : t.ja3sString;
      return null;
    }
    case AppProto.SSH: {
      const b = state.ssh?.banner(toServer);
      if (!b) return null;
      if (name === 'ssh.proto' || name === 'ssh_proto') return b.proto;
      if (name === 'ssh.software' || name === 'ssh_software') return b.software;
      return null;
    }
    default:
      return null;
  }
}
