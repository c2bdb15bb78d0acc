DROP TABLE legal_sections;
