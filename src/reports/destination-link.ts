import path from 'node:path';

/**
 * Where a person finds an invoice at its destination. Xero: the invoice's page in Xero's web
 * app by its classic deep link (the path Xero's own MCP server redirects to after an
 * organisation login, XeroAPI/xero-mcp-server src/consts/deeplinks.ts; the shorter
 * /app/<shortcode>/… form needs the organisation's short code, which the ledger does not keep).
 * The file destination: the JSON file written (its HTML beside it).
 */
export function destinationLink(
  destination: { kind: string; dir?: string } | undefined,
  invoice: { key: string; remoteId: string | null; remoteType: string | null; status: string },
): string | null {
  if (!destination || !invoice.remoteId) return null;
  if (destination.kind === 'xero') {
    const id = encodeURIComponent(invoice.remoteId);
    return invoice.remoteType === 'credit-note'
      ? `https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID=${id}`
      : `https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=${id}`;
  }
  if (destination.kind === 'file' && destination.dir) {
    return `file://${path.resolve(destination.dir, `${invoice.key.replace(/[^A-Za-z0-9._-]/g, '_')}.json`)}`;
  }
  return null;
}
