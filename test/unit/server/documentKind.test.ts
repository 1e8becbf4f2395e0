import { strict as assert } from 'node:assert';
import { detectKind, rootElementName } from '../../../server/src/documentKind';

describe('document kind detection', () => {
  it('finds the root element past the prolog, comments and doctype', () => {
    assert.equal(rootElementName('<?xml version="1.0"?>\n<!-- <pool> -->\n<!DOCTYPE x>\n<domain type="kvm">'), 'domain');
    assert.equal(rootElementName('no xml here'), undefined);
  });

  it('classifies libvirt roots by content, whatever the file name', () => {
    assert.equal(detectKind('/x/vm.xml', "<domain type='kvm'/>"), 'domain');
    assert.equal(detectKind('/x/a.txt', '<network><name>n</name></network>'), 'network');
    assert.equal(detectKind('/x/p.xml', '<pool type="dir"/>'), 'pool');
    assert.equal(detectKind('/x/v.xml', '<volume/>'), 'volume');
    assert.equal(detectKind('/x/s.xml', '<secret/>'), 'libvirt-other');
    assert.equal(detectKind('/x/pom.xml', '<project/>'), 'unknown');
  });

  it('classifies LVM files by name and metadata by content', () => {
    assert.equal(detectKind('/etc/lvm/lvm.conf', 'devices {}'), 'lvm-conf');
    assert.equal(detectKind('/etc/lvm/lvmlocal.conf', ''), 'lvm-conf');
    assert.equal(detectKind('/etc/lvm/profile/thin-generic.profile', ''), 'lvm-conf');
    assert.equal(detectKind('/etc/lvm/backup/vg0', 'vg0 {}'), 'lvm-metadata');
    assert.equal(detectKind('/tmp/vg0.vg', ''), 'lvm-metadata');
    assert.equal(detectKind('/tmp/dump', 'contents = "Text Format Volume Group"\nversion = 1\n'), 'lvm-metadata');
  });
});
