import { createHash } from 'node:crypto';
import type { Contact } from 'xero-node';
import type { EffectiveSettings } from './config.schema';
import { DraftRejected } from './to-xero-invoice';
import { XeroCallError, type XeroSession } from './xero-session';

/**
 * Contact resolution, once per client per run: ContactID as configured, else lookup by
 * ContactNumber (GET /Contacts/{ContactNumber}), else by exact name (where Name=="…";
 * a name containing `"` cannot be escaped in a where filter, so it falls back to searchTerm
 * and an exact comparison here). Never by sending a bare Name on the invoice, which makes Xero
 * create a new contact on any spelling difference.
 * developer.xero.com/documentation/api/accounting/contacts
 */
export class ContactResolver {
  private cache = new Map<string, Promise<string>>();
  constructor(private readonly session: XeroSession) {}

  resolve(s: EffectiveSettings, clientName: string, clientId: string): Promise<string> {
    const c = s.contact;
    const id = JSON.stringify([c.contactId, c.contactNumber, c.name ?? clientName, c.createMissing]);
    let p = this.cache.get(id);
    if (!p) {
      p = this.lookup(s, clientName, clientId);
      this.cache.set(id, p);
      p.catch(() => this.cache.delete(id));
    }
    return p;
  }

  private async lookup(s: EffectiveSettings, clientName: string, clientId: string): Promise<string> {
    const c = s.contact;
    const tenant = this.session.tenantId;
    if (c.contactId) return c.contactId;
    if (c.contactNumber) {
      try {
        const body = await this.session.call('get contact by number', (api) => api.getContactByContactNumber(tenant, c.contactNumber!), {
          idempotent: true,
        });
        const found = body.contacts?.[0]?.contactID;
        if (found) return found;
      } catch (e) {
        if (!(e instanceof XeroCallError && e.failure.status === 404)) throw e;
      }
      throw new DraftRejected(
        'config',
        `no Xero contact has ContactNumber "${c.contactNumber}" (client ${clientId}); fix clients.${clientId}.contact.contactNumber`,
      );
    }
    const name = c.name ?? clientName;
    const matches: Contact[] = name.includes('"')
      ? ((
          await this.session.call(
            'search contacts',
            (api) => api.getContacts(tenant, undefined, undefined, undefined, undefined, 1, false, true, name),
            { idempotent: true },
          )
        ).contacts ?? [])
      : ((
          await this.session.call(
            'find contact by name',
            (api) => api.getContacts(tenant, undefined, `Name=="${name}"`, undefined, undefined, 1, false, true),
            { idempotent: true },
          )
        ).contacts ?? []);
    const exact = matches.filter((m) => m.name === name);
    if (exact.length > 1)
      throw new DraftRejected(
        'config',
        `${exact.length} Xero contacts are named "${name}" (client ${clientId}); set clients.${clientId}.contact.contactId`,
      );
    if (exact[0]?.contactID) return exact[0].contactID;
    if (!c.createMissing) {
      throw new DraftRejected(
        'config',
        `no Xero contact is named "${name}" (client ${clientId}); create it in Xero, set clients.${clientId}.contact, or set contact.createMissing: true`,
      );
    }
    const idem = `hb-contact-${createHash('sha256').update(`${tenant}\n${name}`).digest('hex').slice(0, 40)}`;
    const created = await this.session.call('create contact', (api) => api.createContacts(tenant, { contacts: [{ name }] }, false, idem));
    const el = created.contacts?.[0];
    if (!el || el.hasValidationErrors || !el.contactID) {
      const msg = (el?.validationErrors ?? []).map((v) => v.message).join('; ') || 'no contact returned';
      throw new DraftRejected('permanent', `Xero did not create contact "${name}": ${msg}`);
    }
    return el.contactID;
  }
}
