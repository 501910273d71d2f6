#!/usr/bin/perl
# make_mmdb.pl DIR - writes the small MaxMind DB files the GeoIP tests
# read, in the real format (libmaxmind-db-writer-perl), for addresses in
# the documentation ranges only:
#   DIR/country.mmdb      GeoLite2-Country's layout
#   DIR/asn.mmdb          GeoLite2-ASN's layout
#   DIR/flat-country.mmdb ip-location-db's layout (country_code only)
#   DIR/country-v2.mmdb   country.mmdb with 198.51.100.0/24 moved to FR,
#                         for the tests that replace a file
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift or die "usage: make_mmdb.pl DIR\n";

my %types = (
	country                        => 'map',
	registered_country             => 'map',
	continent                      => 'map',
	names                          => 'map',
	iso_code                       => 'utf8_string',
	code                           => 'utf8_string',
	en                             => 'utf8_string',
	country_code                   => 'utf8_string',
	autonomous_system_number       => 'uint32',
	autonomous_system_organization => 'utf8_string',
);

sub place {
	my ($iso, $name, $continent) = @_;
	return {
		country   => { iso_code => $iso, names => { en => $name } },
		continent => { code => $continent },
	};
}

sub write_db {
	my ($file, $type, $networks) = @_;
	my $tree = MaxMind::DB::Writer::Tree->new(
		ip_version               => 6,
		record_size              => 24,
		database_type            => $type,
		languages                => ['en'],
		description              => { en => "dnsgate test $type" },
		# The test addresses are all in reserved ranges.
		remove_reserved_networks => 0,
		alias_ipv6_to_ipv4       => 1,
		map_key_type_callback    => sub { $types{ $_[0] } },
	);
	for my $n (@$networks) {
		$tree->insert_network($n->[0], $n->[1]);
	}
	open my $fh, '>:raw', "$file.tmp" or die "$file.tmp: $!\n";
	$tree->write_tree($fh);
	close $fh or die "$file.tmp: $!\n";
	rename "$file.tmp", $file or die "$file: $!\n";
}

my @country = (
	[ '198.51.100.0/24', place('NL', 'Netherlands', 'EU') ],
	[ '203.0.113.0/25',  place('US', 'United States', 'NA') ],
	# A network with its registered country only (as GeoLite2 has
	# for some), and one with no country at all.
	[ '203.0.113.128/26',
		{ registered_country => { iso_code => 'BR', names => { en => 'Brazil' } } } ],
	[ '203.0.113.192/26', { continent => { code => 'NA' } } ],
	[ '2001:db8::/33',      place('JP', 'Japan', 'AS') ],
	[ '2001:db8:8000::/33', place('DE', 'Germany', 'EU') ],
);
write_db("$dir/country.mmdb", 'dnsgate-Test-Country', \@country);

my @country_v2 = @country;
$country_v2[0] = [ '198.51.100.0/24', place('FR', 'France', 'EU') ];
write_db("$dir/country-v2.mmdb", 'dnsgate-Test-Country', \@country_v2);

write_db("$dir/flat-country.mmdb", 'dnsgate-Test-Flat', [
	[ '198.51.100.0/24', { country_code => 'NL' } ],
	[ '2001:db8::/32',   { country_code => 'JP' } ],
	[ '203.0.113.0/24',  { country_code => 'bad!' } ],
]);

write_db("$dir/asn.mmdb", 'dnsgate-Test-ASN', [
	[ '198.51.100.0/24', { autonomous_system_number => 64500,
		autonomous_system_organization => 'Example Org' } ],
	[ '203.0.113.0/25', { autonomous_system_number => 64501,
		autonomous_system_organization => 'Documentation Transit' } ],
	[ '203.0.113.128/25', { autonomous_system_organization => 'No Number' } ],
	[ '2001:db8::/32', { autonomous_system_number => 64502,
		autonomous_system_organization => 'Example Six' } ],
]);
