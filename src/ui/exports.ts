import type { QuarantineSummary } from '../reports/quarantine';

const COLUMNS = [
  { header: 'source', key: 'source', width: 14 },
  { header: 'file', key: 'file', width: 30 },
  { header: 'row', key: 'row', width: 6 },
  { header: 'column', key: 'column', width: 14 },
  { header: 'raw value', key: 'value', width: 24 },
  { header: 'reason', key: 'reason', width: 50 },
  { header: 'category', key: 'category', width: 10 },
  { header: 'how to fix', key: 'hint', width: 60 },
  { header: 'record', key: 'ref', width: 24 },
  { header: 'since', key: 'since', width: 24 },
];

/** The quarantine rows as a workbook (exceljs writes both the XLSX and the CSV: one library, one column list). */
async function workbook(q: QuarantineSummary) {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Hourbridge';
  const ws = wb.addWorksheet('Quarantine');
  ws.columns = COLUMNS;
  for (const r of q.rows) {
    ws.addRow({
      source: r.source,
      file: r.file ?? '',
      row: r.row ?? '',
      column: r.column ?? r.field ?? '',
      value: r.rawValue ?? '',
      reason: r.reason,
      category: r.category,
      hint: r.hint,
      ref: r.ref,
      since: r.since,
    });
  }
  ws.getRow(1).font = { bold: true };
  return wb;
}

export async function quarantineXlsx(q: QuarantineSummary): Promise<Buffer> {
  const wb = await workbook(q);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function quarantineCsv(q: QuarantineSummary): Promise<Buffer> {
  const wb = await workbook(q);
  return Buffer.from(await wb.csv.writeBuffer());
}
