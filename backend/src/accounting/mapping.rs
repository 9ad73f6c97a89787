//! What we send the ledger, built from an order. **The extension point**: each payload
//! is made by one function here — [`customer_payload`], [`invoice_payload`],
//! [`credit_note_payload`] — so a shop that needs another field, another series rule or
//! another line layout changes it in one place. Field names are the adapter's contract
//! ([`super::cari`]); amounts are decimal strings in the order's currency.

use chrono_tz::Tz;
use serde_json::{Value, json};
use vocabulary::money;

use super::{
    cari::MatchField,
    settings::{AccountingSettings, VatCode},
};
use crate::{
    orders::detail::{Order, Refund},
    sales_daily::local_day,
};

/// How the customer is matched in the ledger: tax number, else national id, else email.
pub fn match_key(order: &Order) -> Option<(MatchField, String)> {
    let tax = &order.tax_ids;
    let email = order.billing.email.trim().to_lowercase();
    if !tax.tax_number.trim().is_empty() {
        Some((MatchField::TaxNumber, tax.tax_number.trim().to_owned()))
    } else if !tax.national_id.trim().is_empty() {
        Some((MatchField::NationalId, tax.national_id.trim().to_owned()))
    } else if !email.is_empty() {
        Some((MatchField::Email, email))
    } else {
        None
    }
}

/// The ledger's customer record (cari) for the order's buyer.
pub fn customer_payload(order: &Order) -> Value {
    let billing = &order.billing;
    let name = format!("{} {}", billing.first_name.trim(), billing.last_name.trim()).trim().to_owned();
    let company = billing.company.trim();
    let is_company = !company.is_empty() || !order.tax_ids.tax_number.trim().is_empty();
    json!({
        "tip": if is_company { "kurumsal" } else { "bireysel" },
        "unvan": if company.is_empty() { name.as_str() } else { company },
        "ad": billing.first_name.trim(),
        "soyad": billing.last_name.trim(),
        "vergi_no": order.tax_ids.tax_number.trim(),
        "vergi_dairesi": order.tax_ids.tax_office.trim(),
        "tc_kimlik_no": order.tax_ids.national_id.trim(),
        "eposta": billing.email.trim(),
        "telefon": billing.phone.trim(),
        "adres": address(order),
    })
}

fn address(order: &Order) -> Value {
    let billing = &order.billing;
    json!({
        "satir1": billing.address_1.trim(),
        "satir2": billing.address_2.trim(),
        "sehir": billing.city.trim(),
        "bolge": billing.state.trim(),
        "posta_kodu": billing.postcode.trim(),
        "ulke": billing.country.trim(),
    })
}

/// The invoice for `order`, numbered `number`, for the ledger's customer `customer_id`.
pub fn invoice_payload(
    order: &Order,
    settings: &AccountingSettings,
    tz: Tz,
    reference: &str,
    number: &str,
    customer_id: &str,
) -> Value {
    let digits = money::minor_digits(&order.currency);
    let amount = |minor: i64| money::decimal(minor, digits);
    let vat = settings.vat_table();
    let mut lines: Vec<Value> = order
        .items
        .iter()
        .map(|item| {
            let (percent, code) = vat_rate(&vat, item.total, item.total_tax);
            json!({
                "aciklama": item.name,
                "stok_kodu": item.sku,
                "miktar": item.quantity,
                "birim_fiyat": amount(item.unit_price),
                "ara_toplam": amount(item.subtotal),
                "iskonto": amount(item.subtotal - item.total),
                "kdv_orani": percent,
                "kdv_kodu": code,
                "kdv_tutari": amount(item.total_tax),
                "toplam": amount(item.total + item.total_tax),
            })
        })
        .collect();
    let mut extra_line = |name: &str, total: i64, tax: i64| {
        let (percent, code) = vat_rate(&vat, total, tax);
        lines.push(json!({
            "aciklama": name,
            "stok_kodu": "",
            "miktar": 1,
            "birim_fiyat": amount(total),
            "ara_toplam": amount(total),
            "iskonto": amount(0),
            "kdv_orani": percent,
            "kdv_kodu": code,
            "kdv_tutari": amount(tax),
            "toplam": amount(total + tax),
        }));
    };
    if settings.shipping_as_line {
        for shipping in &order.shipping_lines {
            extra_line(&format!("Kargo: {}", shipping.method_title), shipping.total, shipping.total_tax);
        }
    }
    if settings.fees_as_line {
        for fee in &order.fee_lines {
            extra_line(&fee.name, fee.total, fee.total_tax);
        }
    }
    let totals = &order.totals;
    let date = local_day(order.completed_at.unwrap_or(order.created_at), tz);
    json!({
        "referans": reference,
        "seri": settings.invoice_prefix,
        "numara": number,
        "tarih": date.to_string(),
        "para_birimi": order.currency,
        "siparis_no": order.number,
        "cari_id": customer_id,
        "vergi_no": order.tax_ids.tax_number.trim(),
        "vergi_dairesi": order.tax_ids.tax_office.trim(),
        "tc_kimlik_no": order.tax_ids.national_id.trim(),
        "fatura_adresi": address(order),
        "satirlar": lines,
        "kargo": if settings.shipping_as_line { Value::Null } else { json!({ "tutar": amount(totals.shipping_total), "kdv_tutari": amount(totals.shipping_tax) }) },
        "ek_ucretler": if settings.fees_as_line { Value::Null } else { json!({ "tutar": amount(totals.fee_total), "kdv_tutari": amount(fee_tax(order)) }) },
        "iskonto_toplam": amount(totals.discount_total),
        "kdv_toplam": amount(totals.total_tax),
        "genel_toplam": amount(totals.total),
    })
}

fn fee_tax(order: &Order) -> i64 {
    order.fee_lines.iter().map(|f| f.total_tax).sum()
}

/// The credit note for `refund`, against the invoice the ledger knows as `invoice_id`.
pub fn credit_note_payload(
    order: &Order,
    refund: &Refund,
    settings: &AccountingSettings,
    tz: Tz,
    reference: &str,
    invoice_id: &str,
    customer_id: &str,
) -> Value {
    let digits = money::minor_digits(&order.currency);
    let amount = |minor: i64| money::decimal(minor, digits);
    let vat = settings.vat_table();
    let mut lines: Vec<Value> = refund
        .lines
        .iter()
        .filter_map(|line| {
            let item = order.items.iter().find(|i| i.id == line.line_id)?;
            let (percent, code) = vat_rate(&vat, item.total, item.total_tax);
            Some(json!({
                "aciklama": item.name,
                "stok_kodu": item.sku,
                "miktar": line.quantity,
                "kdv_orani": percent,
                "kdv_kodu": code,
                "kdv_tutari": amount(line.tax),
                "toplam": amount(line.amount),
            }))
        })
        .collect();
    let listed: i64 = refund.lines.iter().map(|l| l.amount).sum();
    if refund.amount > listed {
        lines.push(json!({
            "aciklama": if refund.reason.trim().is_empty() { "İade" } else { refund.reason.trim() },
            "stok_kodu": "",
            "miktar": 1,
            "kdv_orani": Value::Null,
            "kdv_kodu": Value::Null,
            "kdv_tutari": amount(0),
            "toplam": amount(refund.amount - listed),
        }));
    }
    json!({
        "referans": reference,
        "fatura_id": invoice_id,
        "cari_id": customer_id,
        "tarih": local_day(refund.created_at, tz).to_string(),
        "para_birimi": order.currency,
        "siparis_no": order.number,
        "aciklama": refund.reason.trim(),
        "satirlar": lines,
        "genel_toplam": amount(refund.amount),
    })
}

/// A line's VAT rate in whole percent, snapped to the nearest rate the ledger has a code
/// for (WooCommerce rounds each line's tax, so 20 % of 9.99 shows as 20.02 %).
fn vat_rate(table: &[VatCode], net: i64, tax: i64) -> (i64, String) {
    let exact = if net > 0 { (tax * 100 + net / 2) / net } else { 0 };
    match table.iter().min_by_key(|code| (code.percent - exact).abs()) {
        Some(code) if (code.percent - exact).abs() <= 1 => (code.percent, code.code.clone()),
        _ => (exact, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<VatCode> {
        super::super::settings::parse_vat_codes("20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0").unwrap()
    }

    #[test]
    fn a_rounded_tax_snaps_to_the_ledgers_rate() {
        assert_eq!(vat_rate(&table(), 999, 200), (20, "KDV20".into()));
        assert_eq!(vat_rate(&table(), 1000, 100), (10, "KDV10".into()));
        assert_eq!(vat_rate(&table(), 0, 0), (0, "KDV0".into()));
        assert_eq!(vat_rate(&table(), 1000, 180), (18, String::new()), "no code for 18 %: the rate goes as it is");
    }
}
