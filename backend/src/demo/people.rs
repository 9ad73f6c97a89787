//! Names, places and phone shapes for demo customers, per country.

/// A country the demo shop sells to, with what makes its customers look real.
pub struct Country {
    pub code: &'static str,
    /// Out of 100, how many customers come from here.
    pub weight: u32,
    pub first_names: &'static [&'static str],
    pub last_names: &'static [&'static str],
    /// (city, state code, postcode prefix, street)
    pub places: &'static [(&'static str, &'static str, &'static str, &'static str)],
    /// E.164 prefix (with the mobile prefix) and how many digits follow it.
    pub phone_prefix: &'static str,
    pub phone_digits: u32,
}

pub const COUNTRIES: &[Country] = &[
    Country {
        code: "TR",
        weight: 60,
        first_names: &[
            "Ayşe", "Mehmet", "Fatma", "Mustafa", "Zeynep", "Ahmet", "Elif", "Emre", "Şeyma", "Burak", "Gülşen",
            "Çağrı", "Özge", "İbrahim", "Merve", "Oğuz", "Deniz", "Hülya", "Kerem", "Büşra", "Serkan", "Ece",
        ],
        last_names: &[
            "Yılmaz",
            "Kaya",
            "Demir",
            "Şahin",
            "Çelik",
            "Yıldız",
            "Yıldırım",
            "Öztürk",
            "Aydın",
            "Özdemir",
            "Arslan",
            "Doğan",
            "Kılıç",
            "Aslan",
            "Çetin",
            "Koç",
            "Kurt",
            "Özkan",
            "Şimşek",
            "Polat",
            "Erdoğan",
        ],
        places: &[
            ("İstanbul", "TR34", "34", "Bağdat Caddesi"),
            ("Ankara", "TR06", "06", "Atatürk Bulvarı"),
            ("İzmir", "TR35", "35", "Kıbrıs Şehitleri Caddesi"),
            ("Bursa", "TR16", "16", "Altıparmak Caddesi"),
            ("Antalya", "TR07", "07", "Işıklar Caddesi"),
            ("Eskişehir", "TR26", "26", "Doktorlar Caddesi"),
            ("Trabzon", "TR61", "61", "Uzun Sokak"),
            ("Gaziantep", "TR27", "27", "Gazi Muhtar Paşa Bulvarı"),
        ],
        phone_prefix: "+905",
        phone_digits: 9,
    },
    Country {
        code: "DE",
        weight: 12,
        first_names: &["Lena", "Jonas", "Mia", "Lukas", "Hannah", "Felix", "Sophie", "Jürgen", "Anja", "Tobias"],
        last_names: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann"],
        places: &[
            ("Berlin", "BE", "10", "Torstraße"),
            ("München", "BY", "80", "Leopoldstraße"),
            ("Hamburg", "HH", "20", "Mönckebergstraße"),
            ("Köln", "NW", "50", "Ehrenstraße"),
        ],
        phone_prefix: "+4915",
        phone_digits: 9,
    },
    Country {
        code: "GB",
        weight: 8,
        first_names: &["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlie", "Grace"],
        last_names: &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts"],
        places: &[
            ("London", "", "SW1A ", "Baker Street"),
            ("Manchester", "", "M1 ", "Deansgate"),
            ("Bristol", "", "BS1 ", "Park Street"),
            ("Edinburgh", "", "EH1 ", "Royal Mile"),
        ],
        phone_prefix: "+447",
        phone_digits: 9,
    },
    Country {
        code: "US",
        weight: 8,
        first_names: &["James", "Olivia", "Liam", "Emma", "Noah", "Charlotte", "Ethan", "Sophia", "Mason", "Harper"],
        last_names: &["Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Clark", "Lewis"],
        places: &[
            ("New York", "NY", "100", "Broadway"),
            ("Austin", "TX", "787", "Congress Avenue"),
            ("Seattle", "WA", "981", "Pike Street"),
            ("Chicago", "IL", "606", "Michigan Avenue"),
        ],
        phone_prefix: "+1212",
        phone_digits: 7,
    },
    Country {
        code: "NL",
        weight: 6,
        first_names: &["Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Milan", "Sara", "Bram", "Fleur"],
        last_names: &["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"],
        places: &[
            ("Amsterdam", "", "10", "Prinsengracht"),
            ("Rotterdam", "", "30", "Witte de Withstraat"),
            ("Utrecht", "", "35", "Oudegracht"),
        ],
        phone_prefix: "+316",
        phone_digits: 8,
    },
    Country {
        code: "FR",
        weight: 6,
        first_names: &["Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès", "Théo", "Camille", "Noé"],
        last_names: &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre"],
        places: &[
            ("Paris", "", "750", "Rue de Rivoli"),
            ("Lyon", "", "690", "Rue de la République"),
            ("Marseille", "", "130", "La Canebière"),
        ],
        phone_prefix: "+336",
        phone_digits: 8,
    },
];

/// The ASCII letters of a name, for an email address (`Şeyma Çelik` → `seyma.celik`).
pub fn ascii_fold(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let folded = match c {
                'ç' | 'Ç' => 'c',
                'ğ' | 'Ğ' => 'g',
                'ı' | 'I' | 'İ' | 'i' => 'i',
                'ö' | 'Ö' => 'o',
                'ş' | 'Ş' => 's',
                'ü' | 'Ü' => 'u',
                'é' | 'è' | 'ê' | 'É' => 'e',
                'ä' | 'Ä' => 'a',
                ' ' => return None,
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(folded)
        })
        .collect()
}
